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
 * times (float)(1.0 / count). mask[k] is 1 when count > 0. The GIL is released while computing.
 *
 * own_mode 0: a dictionary word uses its own row (fastText); 1: only entry 0 does (floret).
 * prune_size -1: no pruning; 0: every n-gram was pruned; > 0: prune[bucket] is the row or -1.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static inline void add_row(const params_t *p, float *acc, int64_t row, int64_t *count) {
    if (row < 0 || row >= p->rows) return; /* never outside the table */
    const float *r = p->table + row * p->dim;
    for (int64_t j = 0; j < p->dim; j++) acc[j] += r[j];
    (*count)++;
}

/* Dictionary::pushHash: the row of bucket h, or nothing when it was pruned. */
static inline void push_hash(const params_t *p, float *acc, int64_t h, int64_t *count) {
    if (p->prune_size == 0) return;
    if (p->prune_size > 0) {
        h = p->prune[h];
        if (h < 0) return;
    }
    add_row(p, acc, p->nwords + h, count);
}

static inline void hash_ngram(const params_t *p, float *acc, const unsigned char *s,
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
static void subwords(const params_t *p, float *acc, const unsigned char *w, Py_ssize_t n,
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

static int64_t one_word(const params_t *p, const unsigned char *word, Py_ssize_t n, int64_t id,
                        unsigned char *wrap, float *acc) {
    int64_t count = 0;
    for (int64_t j = 0; j < p->dim; j++) acc[j] = 0.0f;
    if (id >= 0 && (p->own_mode == 0 || id == 0)) add_row(p, acc, id, &count);
    if (!(n == 4 && memcmp(word, "</s>", 4) == 0)) {
        wrap[0] = '<';
        memcpy(wrap + 1, word, (size_t)n);
        wrap[n + 1] = '>';
        subwords(p, acc, wrap, n + 2, &count);
    }
    if (count > 0) {
        float scale = (float)(1.0 / (double)count);
        for (int64_t j = 0; j < p->dim; j++) acc[j] *= scale;
    }
    return count;
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
    unsigned char *wrap = malloc((size_t)longest + 2);
    if (!wrap) {
        PyErr_NoMemory();
        goto done;
    }
    params_t p = {(const float *)tab.buf, (int64_t)(tab.len / 4 / dim), dim, nwords, bucket,
                  prune_size, minn, maxn, hash_kind, hash_count, own_mode, (uint32_t)seed,
                  (const int32_t *)prune.buf};
    float *o = (float *)out.buf;
    unsigned char *m = (unsigned char *)mask.buf;
    const unsigned char *d = (const unsigned char *)data.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < nw; k++)
        m[k] = one_word(&p, d + off[k], (Py_ssize_t)(off[k + 1] - off[k]), idv[k], wrap,
                        o + k * dim) > 0;
    Py_END_ALLOW_THREADS
    free(wrap);
    result = Py_None;
    Py_INCREF(result);
done:
    PyBuffer_Release(&tab); PyBuffer_Release(&data); PyBuffer_Release(&offs);
    PyBuffer_Release(&ids); PyBuffer_Release(&out); PyBuffer_Release(&mask);
    PyBuffer_Release(&prune);
    return result;
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

static PyMethodDef methods[] = {
    {"word_vectors", word_vectors, METH_VARARGS, "fastText get_word_vector of many words."},
    {"murmur3", murmur3, METH_VARARGS, "MurmurHash3_x64_128 of bytes: (h1, h2)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "wordvecs._ftkernel", "fastText subword vectors (compiled).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__ftkernel(void) { return PyModule_Create(&moduledef); }
