/* The compiled fastText subword kernel of wordvecs: the same contract and results as
 * subwords.py's pure-Python path (py_word_vectors), bit for bit.
 *
 * word_vectors(table, dim, data, offsets, ids, out, mask, nwords, minn, maxn, bucket,
 *              hash_kind, hash_count, seed, own_mode, prune, prune_size) -> None
 *
 * For word k (bytes data[offsets[k]:offsets[k+1]], dictionary entry ids[k] or -1) it writes into
 * out[k] what fastText's FastText::getWordVector computes: the sum, in float32 and in fastText's
 * order, of the word's own input row (when it has one) and the rows of its character n-grams of
 * "<word>" (minn..maxn UTF-8 characters, hashed with FNV-1a over *signed* chars, or, for floret,
 * with MurmurHash3_x64_128 into hash_count buckets; a pruned .ftz maps buckets through prune[]),
 * times (float)(1.0 / count). mask[k] is 1 when count > 0. The GIL is released while computing,
 * and large batches are shared out in chunks over the machine's cores (WORDVECS_THREADS caps
 * them): each word is computed by one thread in fastText's order, so the bits do not depend on
 * the thread count.
 *
 * word_vector(context(table, ...), word, ids, out) is the same for one str, in one call: what
 * v[word] asks word by word (no packing, no thread pool, no array made but the caller's out).
 *
 * own_mode 0: a dictionary word uses its own row (fastText); 1: only entry 0 does (floret).
 * prune_size -1: no pruning; 0: every n-gram was pruned; > 0: prune[bucket] is the row or -1.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- hashes ------------------------------------------------------------------------------- */

static uint32_t fnv1a(const unsigned char *s, Py_ssize_t n) {
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < n; i++) {
        h = h ^ (uint32_t)(int32_t)(int8_t)s[i]; /* fastText's signed-char quirk */
        h = h * 16777619u;
    }
    return h;
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts, as floret's own build */
    return v;
}

/* MurmurHash3_x64_128 (Austin Appleby's public-domain reference), as floret calls it. */
static void murmur3_x64_128(const unsigned char *data, Py_ssize_t len, uint32_t seed,
                            uint64_t out[2]) {
    const Py_ssize_t nblocks = len / 16;
    uint64_t h1 = seed, h2 = seed;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    for (Py_ssize_t i = 0; i < nblocks; i++) {
        uint64_t k1 = load64(data + i * 16), k2 = load64(data + i * 16 + 8);
        k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
        h1 = rotl64(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
        k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2;
        h2 = rotl64(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = data + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    switch (len & 15) {
    case 15: k2 ^= ((uint64_t)tail[14]) << 48; /* fall through */
    case 14: k2 ^= ((uint64_t)tail[13]) << 40; /* fall through */
    case 13: k2 ^= ((uint64_t)tail[12]) << 32; /* fall through */
    case 12: k2 ^= ((uint64_t)tail[11]) << 24; /* fall through */
    case 11: k2 ^= ((uint64_t)tail[10]) << 16; /* fall through */
    case 10: k2 ^= ((uint64_t)tail[9]) << 8;   /* fall through */
    case 9:  k2 ^= ((uint64_t)tail[8]);
             k2 *= c2; k2 = rotl64(k2, 33); k2 *= c1; h2 ^= k2; /* fall through */
    case 8:  k1 ^= ((uint64_t)tail[7]) << 56;  /* fall through */
    case 7:  k1 ^= ((uint64_t)tail[6]) << 48;  /* fall through */
    case 6:  k1 ^= ((uint64_t)tail[5]) << 40;  /* fall through */
    case 5:  k1 ^= ((uint64_t)tail[4]) << 32;  /* fall through */
    case 4:  k1 ^= ((uint64_t)tail[3]) << 24;  /* fall through */
    case 3:  k1 ^= ((uint64_t)tail[2]) << 16;  /* fall through */
    case 2:  k1 ^= ((uint64_t)tail[1]) << 8;   /* fall through */
    case 1:  k1 ^= ((uint64_t)tail[0]);
             k1 *= c1; k1 = rotl64(k1, 31); k1 *= c2; h1 ^= k1;
    }
    h1 ^= (uint64_t)len; h2 ^= (uint64_t)len;
    h1 += h2; h2 += h1;
    h1 = fmix64(h1); h2 = fmix64(h2);
    h1 += h2; h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

/* ---- one word ------------------------------------------------------------------------------ */

typedef struct {
    const float *table;
    int64_t rows, dim, nwords, bucket, prune_size;
    int minn, maxn, hash_kind, hash_count, own_mode;
    uint32_t seed;
    const int32_t *prune;
} params_t;

/* Rows are first collected (rows[0..count)), prefetched, then summed in the same order: the
 * memory of a word's ~40 random rows is fetched in parallel, and the sum is fastText's. */
static inline void add_row(const params_t *p, int64_t *rows, int64_t row, int64_t *count) {
    if (row < 0 || row >= p->rows) return; /* never outside the table */
    /* every cache line of the row, into L2 (locality 2: prefetcht1): a word's ~250 lines are more
     * than the L1 miss buffers hold, and an L1 prefetch stalls until one is free (measured on
     * AMD EPYC: 1.07M words/s with 2, 0.62M with 3) */
    uintptr_t first = (uintptr_t)(p->table + row * p->dim) & ~(uintptr_t)63;
    uintptr_t last = (uintptr_t)(p->table + (row + 1) * p->dim) - 1;
    for (uintptr_t a = first; a <= last; a += 64) __builtin_prefetch((const void *)a, 0, 2);
    rows[(*count)++] = row;
}

/* Dictionary::pushHash: the row of bucket h, or nothing when it was pruned. */
static inline void push_hash(const params_t *p, int64_t *acc, int64_t h, int64_t *count) {
    if (p->prune_size == 0) return;
    if (p->prune_size > 0) {
        h = p->prune[h];
        if (h < 0) return;
    }
    add_row(p, acc, p->nwords + h, count);
}

static inline void hash_ngram(const params_t *p, int64_t *acc, const unsigned char *s,
                              Py_ssize_t n, int64_t *count) {
    if (p->hash_kind == 0) {
        push_hash(p, acc, (int64_t)(fnv1a(s, n) % (uint32_t)p->bucket), count);
        return;
    }
    uint64_t e[2];
    uint32_t keys[4];
    murmur3_x64_128(s, n, p->seed, e);
    keys[0] = (uint32_t)(e[0] & 0xffffffffu);
    keys[1] = (uint32_t)(e[0] >> 32);
    keys[2] = (uint32_t)(e[1] & 0xffffffffu);
    keys[3] = (uint32_t)(e[1] >> 32);
    for (int i = 0; i < p->hash_count; i++)
        push_hash(p, acc, (int64_t)(keys[i] % (uint32_t)p->bucket), count);
}

/* Dictionary::computeSubwords over w = "<" word ">" (length n). */
static void subwords(const params_t *p, int64_t *acc, const unsigned char *w, Py_ssize_t n,
                     int64_t *count) {
    if (p->hash_kind == 1) hash_ngram(p, acc, w, n, count); /* floret: the whole word too */
    for (Py_ssize_t i = 0; i < n; i++) {
        if ((w[i] & 0xC0) == 0x80) continue;
        Py_ssize_t j = i;
        for (int len = 1; j < n && len <= p->maxn; len++) {
            j++;
            while (j < n && (w[j] & 0xC0) == 0x80) j++;
            if (len >= p->minn && !(len == 1 && (i == 0 || j == n)))
                hash_ngram(p, acc, w + i, j - i, count);
        }
    }
}

/* The most rows a word of n bytes can have: its own, and hash_count per n-gram (at most maxn
 * n-grams start at each of the n + 2 bytes of "<word>") plus the whole word (floret). */
static size_t max_rows(const params_t *p, Py_ssize_t n) {
    return (size_t)(2 + (n + 2) * (int64_t)(p->maxn > 0 ? p->maxn : 0) + 1) * (size_t)p->hash_count;
}

/* The rows of one word, in fastText's order (each prefetched as it is found). */
static int64_t collect_rows(const params_t *p, const unsigned char *word, Py_ssize_t n,
                            int64_t id, unsigned char *wrap, int64_t *rows) {
    int64_t count = 0;
    if (id >= 0 && (p->own_mode == 0 || id == 0)) add_row(p, rows, id, &count);
    if (!(n == 4 && memcmp(word, "</s>", 4) == 0)) {
        wrap[0] = '<';
        memcpy(wrap + 1, word, (size_t)n);
        wrap[n + 1] = '>';
        subwords(p, rows, wrap, n + 2, &count);
    }
    return count;
}

/* FastText::getWordVector: the rows summed in order in float32, times (float)(1.0 / count). */
static void sum_rows(const params_t *p, const int64_t *rows, int64_t count, float *acc) {
    for (int64_t j = 0; j < p->dim; j++) acc[j] = 0.0f;
    for (int64_t k = 0; k < count; k++) {
        const float *r = p->table + rows[k] * p->dim;
        for (int64_t j = 0; j < p->dim; j++) acc[j] += r[j];
    }
    if (count > 0) {
        float scale = (float)(1.0 / (double)count);
        for (int64_t j = 0; j < p->dim; j++) acc[j] *= scale;
    }
}

/* ---- threads ------------------------------------------------------------------------------ */

#define MAX_THREADS 16
#define MIN_WORDS_PER_THREAD 2048
#define CHUNK_WORDS 256

typedef struct {
    const params_t *p;
    const unsigned char *data;
    const int64_t *off, *ids;
    float *out;
    unsigned char *mask, *wrap;
    int64_t *rows;
    size_t nrows;
    Py_ssize_t *next, nw; /* the next chunk to take (shared by the threads), the words */
} job_t;

/* Words lo..hi-1, pipelined: the rows of word k + 1 are found and prefetched before word k is
 * summed, so their memory arrives while the CPU adds. */
static void run_words(job_t *j, Py_ssize_t lo, Py_ssize_t hi) {
    int64_t *cur = j->rows, *nxt = j->rows + j->nrows, *tmp, ncur = 0, nnxt = 0;
    if (lo < hi)
        ncur = collect_rows(j->p, j->data + j->off[lo], (Py_ssize_t)(j->off[lo + 1] - j->off[lo]),
                            j->ids[lo], j->wrap, cur);
    for (Py_ssize_t k = lo; k < hi; k++) {
        if (k + 1 < hi)
            nnxt = collect_rows(j->p, j->data + j->off[k + 1],
                                (Py_ssize_t)(j->off[k + 2] - j->off[k + 1]), j->ids[k + 1],
                                j->wrap, nxt);
        sum_rows(j->p, cur, ncur, j->out + k * j->p->dim);
        j->mask[k] = ncur > 0;
        tmp = cur, cur = nxt, nxt = tmp;
        ncur = nnxt;
    }
}

/* Chunks of CHUNK_WORDS words, taken in turn until none is left: a thread that the machine slows
 * (another process on its core) takes fewer, instead of holding the others up at the end. */
static void *run_job(void *arg) {
    job_t *j = (job_t *)arg;
    for (;;) {
        Py_ssize_t lo = __atomic_fetch_add(j->next, CHUNK_WORDS, __ATOMIC_RELAXED);
        if (lo >= j->nw) break;
        run_words(j, lo, lo + CHUNK_WORDS < j->nw ? lo + CHUNK_WORDS : j->nw);
    }
    return NULL;
}

static long online_cpus = 0; /* sysconf reads /sys on every call (about 14 us): asked once */

static int n_threads(Py_ssize_t nw) {
    if (nw < 2 * MIN_WORDS_PER_THREAD) return 1; /* one thread whatever the settings */
    const char *env = getenv("WORDVECS_THREADS");
    if (!env && online_cpus == 0) online_cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = env ? strtol(env, NULL, 10) : online_cpus;
    if (n > MAX_THREADS) n = MAX_THREADS;
    if (n > nw / MIN_WORDS_PER_THREAD) n = (long)(nw / MIN_WORDS_PER_THREAD);
    return n < 1 ? 1 : (int)n;
}

/* ---- Python entry point -------------------------------------------------------------------- */

static PyObject *word_vectors(PyObject *self, PyObject *args) {
    Py_buffer tab, data, offs, ids, out, mask, prune;
    Py_ssize_t dim, nwords, bucket, prune_size;
    int minn, maxn, hash_kind, hash_count, own_mode;
    unsigned long seed;
    if (!PyArg_ParseTuple(args, "y*ny*y*y*w*w*niiniikiy*n:word_vectors", &tab, &dim, &data,
                          &offs, &ids, &out, &mask, &nwords, &minn, &maxn, &bucket, &hash_kind,
                          &hash_count, &seed, &own_mode, &prune, &prune_size))
        return NULL;
    PyObject *result = NULL;
    Py_ssize_t nw = ids.len / 8;
    const int64_t *off = (const int64_t *)offs.buf;
    const int64_t *idv = (const int64_t *)ids.buf;
    if (dim <= 0 || offs.len != (nw + 1) * 8 || out.len != nw * dim * 4 || mask.len != nw ||
        (maxn > 0 && bucket <= 0) || hash_count < 1 || hash_count > 4 ||
        (prune_size > 0 && prune.len != bucket * 4)) {
        PyErr_SetString(PyExc_ValueError, "word_vectors: inconsistent arguments");
        goto done;
    }
    Py_ssize_t longest = 0;
    for (Py_ssize_t k = 0; k < nw; k++) {
        if (off[k] < 0 || off[k + 1] < off[k] || off[k + 1] > data.len) {
            PyErr_SetString(PyExc_ValueError, "word_vectors: bad offsets");
            goto done;
        }
        if (off[k + 1] - off[k] > longest) longest = (Py_ssize_t)(off[k + 1] - off[k]);
    }
    int nt = n_threads(nw);
    params_t p = {(const float *)tab.buf, (int64_t)(tab.len / 4 / dim), dim, nwords, bucket,
                  prune_size, minn, maxn, hash_kind, hash_count, own_mode, (uint32_t)seed,
                  (const int32_t *)prune.buf};
    size_t nrows = max_rows(&p, longest);
    unsigned char *wrap = malloc(((size_t)longest + 2) * (size_t)nt);
    int64_t *rowbuf = malloc(2 * nrows * sizeof(int64_t) * (size_t)nt);
    if (!wrap || !rowbuf) {
        free(wrap);
        free(rowbuf);
        PyErr_NoMemory();
        goto done;
    }
    job_t jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    Py_ssize_t next = 0;
    for (int t = 0; t < nt; t++) {
        job_t j = {&p, (const unsigned char *)data.buf, off, idv, (float *)out.buf,
                   (unsigned char *)mask.buf, wrap + (size_t)t * ((size_t)longest + 2),
                   rowbuf + 2 * (size_t)t * nrows, nrows, &next, nw};
        jobs[t] = j;
    }
    Py_BEGIN_ALLOW_THREADS
    int started = 0;
    for (int t = 1; t < nt; t++) {
        if (pthread_create(&tids[t], NULL, run_job, &jobs[t]) != 0) break;
        started = t;
    }
    run_job(&jobs[0]); /* the chunks of any thread that did not start too */
    for (int t = 1; t <= started; t++) pthread_join(tids[t], NULL);
    Py_END_ALLOW_THREADS
    free(wrap);
    free(rowbuf);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&tab); PyBuffer_Release(&data); PyBuffer_Release(&offs);
    PyBuffer_Release(&ids); PyBuffer_Release(&out); PyBuffer_Release(&mask);
    PyBuffer_Release(&prune);
    return result;
}

/* pack_words(words, ids, offsets, entries) -> bytes
 *
 * The arguments of word_vectors for a sequence of str: their UTF-8 bytes joined (a word that is
 * not valid UTF-8 because it holds surrogate escapes gives back its raw bytes, as
 * str.encode("utf-8", "surrogateescape")), offsets[k] (int64, len(words) + 1) where word k starts,
 * and entries[k] (int64, len(words)) = ids[word], or -1 when ids (a dict or None) lacks it. */
static int append_bytes(unsigned char **buf, Py_ssize_t *len, Py_ssize_t *cap,
                        const char *s, Py_ssize_t n) {
    if (*len + n > *cap) {
        Py_ssize_t c = *cap;
        while (c < *len + n) c *= 2;
        unsigned char *grown = realloc(*buf, (size_t)c);
        if (!grown) {
            PyErr_NoMemory();
            return -1;
        }
        *buf = grown, *cap = c;
    }
    memcpy(*buf + *len, s, (size_t)n);
    *len += n;
    return 0;
}

static int append_word(unsigned char **buf, Py_ssize_t *len, Py_ssize_t *cap, PyObject *w) {
    if (PyUnicode_IS_ASCII(w)) /* the str's own bytes: no copy made, nothing cached */
        return append_bytes(buf, len, cap, (const char *)PyUnicode_DATA(w),
                            PyUnicode_GET_LENGTH(w));
    PyObject *b = PyUnicode_AsUTF8String(w); /* a temporary: the str keeps no UTF-8 copy */
    if (!b) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear();
        b = PyUnicode_AsEncodedString(w, "utf-8", "surrogateescape");
        if (!b) return -1;
    }
    int rc = append_bytes(buf, len, cap, PyBytes_AS_STRING(b), PyBytes_GET_SIZE(b));
    Py_DECREF(b);
    return rc;
}

static PyObject *pack_words(PyObject *self, PyObject *args) {
    PyObject *words, *ids;
    Py_buffer offs, ents;
    if (!PyArg_ParseTuple(args, "OOw*w*:pack_words", &words, &ids, &offs, &ents)) return NULL;
    PyObject *result = NULL, *seq = PySequence_Fast(words, "pack_words: words must be a sequence");
    unsigned char *buf = NULL;
    if (!seq) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq), len = 0, cap = 1 << 12;
    if (offs.len != (n + 1) * 8 || ents.len != n * 8 || (ids != Py_None && !PyDict_Check(ids))) {
        PyErr_SetString(PyExc_ValueError, "pack_words: inconsistent arguments");
        goto done;
    }
    int64_t *off = (int64_t *)offs.buf, *ent = (int64_t *)ents.buf;
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (!(buf = malloc((size_t)cap))) {
        PyErr_NoMemory();
        goto done;
    }
    off[0] = 0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *w = items[k];
        if (!PyUnicode_Check(w)) {
            PyErr_Format(PyExc_TypeError, "words must be str, got %.100s at %zd",
                         Py_TYPE(w)->tp_name, k);
            goto done;
        }
        if (append_word(&buf, &len, &cap, w) < 0) goto done;
        off[k + 1] = len;
        ent[k] = -1;
        if (ids != Py_None) {
            PyObject *v = PyDict_GetItemWithError(ids, w); /* borrowed */
            if (v) {
                long long e = PyLong_AsLongLong(v);
                if (e == -1 && PyErr_Occurred()) goto done;
                ent[k] = e;
            } else if (PyErr_Occurred()) {
                goto done;
            }
        }
    }
    result = PyBytes_FromStringAndSize((const char *)buf, len);
done:
    free(buf);
    Py_XDECREF(seq);
    PyBuffer_Release(&offs);
    PyBuffer_Release(&ents);
    return result;
}

/* scan_entries(buf, pos, first, size, nwords, max_word) -> (words, parsed, pos, status, found)
 *
 * Parse fastText dictionary entries (word bytes, NUL, int64 count, int8 type) number first,
 * first + 1, ... size - 1 from buf[pos:]. words: the parsed words joined by NUL bytes. status 0:
 * all parsed; 1: buf ends inside the entry at pos (feed more bytes); 2: the type byte at pos is
 * not 0 for an entry < nwords or 1 after (found: its value); 3: no NUL within max_word bytes. */
static PyObject *scan_entries(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, first, size, nwords, max_word;
    if (!PyArg_ParseTuple(args, "y*nnnnn:scan_entries", &view, &pos, &first, &size, &nwords,
                          &max_word))
        return NULL;
    const unsigned char *b = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, i = first, out_len = 0, cap = 1 << 16;
    int status = 0, found = 0;
    unsigned char *out = malloc((size_t)cap);
    if (!out) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    while (i < size) {
        const unsigned char *nul = pos < n ? memchr(b + pos, 0, (size_t)(n - pos)) : NULL;
        if (!nul) {
            status = (n - pos > max_word) ? 3 : 1;
            break;
        }
        Py_ssize_t end = nul - b;
        if (end - pos > max_word) {
            status = 3;
            break;
        }
        if (end + 10 > n) {
            status = 1;
            break;
        }
        int kind = (int)(signed char)b[end + 9];
        if (kind != (i < nwords ? 0 : 1)) {
            status = 2;
            found = kind;
            pos = end + 9;
            break;
        }
        Py_ssize_t need = out_len + (end - pos) + 1;
        if (need > cap) {
            while (cap < need) cap *= 2;
            unsigned char *grown = realloc(out, (size_t)cap);
            if (!grown) {
                status = -1;
                break;
            }
            out = grown;
        }
        if (i > first) out[out_len++] = 0;
        memcpy(out + out_len, b + pos, (size_t)(end - pos));
        out_len += end - pos;
        pos = end + 10;
        i++;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (status == -1) {
        free(out);
        return PyErr_NoMemory();
    }
    PyObject *words = PyBytes_FromStringAndSize((const char *)out, out_len);
    free(out);
    if (!words) return NULL;
    return Py_BuildValue("(Nnnii)", words, i - first, pos, status, found);
}

/* murmur3(data, seed) -> (h1, h2): for the tests of the Python implementation. */
static PyObject *murmur3(PyObject *self, PyObject *args) {
    Py_buffer data;
    unsigned long seed;
    if (!PyArg_ParseTuple(args, "y*k:murmur3", &data, &seed)) return NULL;
    uint64_t e[2];
    murmur3_x64_128((const unsigned char *)data.buf, data.len, (uint32_t)seed, e);
    PyBuffer_Release(&data);
    return Py_BuildValue("(KK)", (unsigned long long)e[0], (unsigned long long)e[1]);
}

/* ---- one word at a time: v[word] ---------------------------------------------------------- */

/* context(table, nwords, minn, maxn, bucket, hash_kind, hash_count, seed, own_mode, prune,
 *         prune_size) -> capsule
 *
 * The arguments of word_vectors that do not change from word to word, checked and held (with the
 * table's and prune's buffers) once, for word_vector. */
typedef struct {
    params_t p;
    Py_buffer tab, prune;
} context_t;

static void context_free(PyObject *capsule) {
    context_t *c = (context_t *)PyCapsule_GetPointer(capsule, "wordvecs._ftkernel.context");
    if (!c) return;
    PyBuffer_Release(&c->tab);
    PyBuffer_Release(&c->prune);
    free(c);
}

static PyObject *context(PyObject *self, PyObject *args) {
    Py_buffer tab, prune;
    Py_ssize_t dim, nwords, bucket, prune_size;
    int minn, maxn, hash_kind, hash_count, own_mode;
    unsigned long seed;
    if (!PyArg_ParseTuple(args, "y*nniiniikiy*n:context", &tab, &dim, &nwords, &minn, &maxn,
                          &bucket, &hash_kind, &hash_count, &seed, &own_mode, &prune,
                          &prune_size))
        return NULL;
    if (dim <= 0 || (maxn > 0 && bucket <= 0) || hash_count < 1 || hash_count > 4 ||
        (prune_size > 0 && prune.len != bucket * 4)) {
        PyBuffer_Release(&tab);
        PyBuffer_Release(&prune);
        PyErr_SetString(PyExc_ValueError, "context: inconsistent arguments");
        return NULL;
    }
    context_t *c = malloc(sizeof(context_t));
    if (!c) {
        PyBuffer_Release(&tab);
        PyBuffer_Release(&prune);
        return PyErr_NoMemory();
    }
    params_t p = {(const float *)tab.buf, (int64_t)(tab.len / 4 / dim), dim, nwords, bucket,
                  prune_size, minn, maxn, hash_kind, hash_count, own_mode, (uint32_t)seed,
                  (const int32_t *)prune.buf};
    c->p = p;
    c->tab = tab;
    c->prune = prune;
    PyObject *capsule = PyCapsule_New(c, "wordvecs._ftkernel.context", context_free);
    if (!capsule) {
        PyBuffer_Release(&c->tab);
        PyBuffer_Release(&c->prune);
        free(c);
    }
    return capsule;
}

/* word_vector(context, word, ids, out) -> bool
 *
 * word_vectors of one str in one call: its UTF-8 bytes (surrogate escapes give back their raw
 * bytes, as pack_words), its entry ids[word] (or -1; ids a dict or None), its rows hashed and
 * summed in fastText's order into out (float32, dim), with no array made but out. True when the
 * word got at least one row. */
static PyObject *word_vector(PyObject *self, PyObject *args) {
    PyObject *capsule, *word, *ids;
    Py_buffer out;
    if (!PyArg_ParseTuple(args, "OUOw*:word_vector", &capsule, &word, &ids, &out)) return NULL;
    PyObject *result = NULL, *tmp = NULL;
    int64_t stack_rows[512], *rows = stack_rows;
    unsigned char stack_wrap[256], *wrap = stack_wrap;
    context_t *c = (context_t *)PyCapsule_GetPointer(capsule, "wordvecs._ftkernel.context");
    if (!c) goto done;
    if (out.len != c->p.dim * 4 || (ids != Py_None && !PyDict_Check(ids))) {
        PyErr_SetString(PyExc_ValueError, "word_vector: inconsistent arguments");
        goto done;
    }
    const char *bytes;
    Py_ssize_t n;
    if (PyUnicode_IS_ASCII(word)) {
        bytes = (const char *)PyUnicode_DATA(word);
        n = PyUnicode_GET_LENGTH(word);
    } else {
        tmp = PyUnicode_AsUTF8String(word);
        if (!tmp) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) goto done;
            PyErr_Clear();
            tmp = PyUnicode_AsEncodedString(word, "utf-8", "surrogateescape");
            if (!tmp) goto done;
        }
        bytes = PyBytes_AS_STRING(tmp);
        n = PyBytes_GET_SIZE(tmp);
    }
    int64_t id = -1;
    if (ids != Py_None) {
        PyObject *v = PyDict_GetItemWithError(ids, word); /* borrowed */
        if (v) {
            long long e = PyLong_AsLongLong(v);
            if (e == -1 && PyErr_Occurred()) goto done;
            id = e;
        } else if (PyErr_Occurred()) {
            goto done;
        }
    }
    size_t nrows = max_rows(&c->p, n);
    if (nrows > sizeof(stack_rows) / sizeof(stack_rows[0])) rows = malloc(nrows * sizeof(int64_t));
    if ((size_t)n + 2 > sizeof(stack_wrap)) wrap = malloc((size_t)n + 2);
    if (!rows || !wrap) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t count = collect_rows(&c->p, (const unsigned char *)bytes, n, id, wrap, rows);
    sum_rows(&c->p, rows, count, (float *)out.buf);
    result = PyBool_FromLong(count > 0);
done:
    if (rows && rows != stack_rows) free(rows);
    if (wrap && wrap != stack_wrap) free(wrap);
    Py_XDECREF(tmp);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"context", context, METH_VARARGS, "The fixed arguments of word_vector, held once."},
    {"word_vector", word_vector, METH_VARARGS, "fastText get_word_vector of one str."},
    {"word_vectors", word_vectors, METH_VARARGS, "fastText get_word_vector of many words."},
    {"pack_words", pack_words, METH_VARARGS, "UTF-8 bytes, offsets and entries of words."},
    {"murmur3", murmur3, METH_VARARGS, "MurmurHash3_x64_128 of bytes: (h1, h2)."},
    {"scan_entries", scan_entries, METH_VARARGS, "Parse fastText dictionary entries."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "wordvecs._ftkernel", "fastText subword vectors (compiled).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__ftkernel(void) { return PyModule_Create(&moduledef); }
