/* The compiled text kernel of wordvecs: the same contract and results as formats/_pykernel.py.
 *
 * scan_lines(buf, dim) -> (word_start, word_end, vec_start, vec_end, nfields)   int64 arrays
 *     (nfields -1: a \r inside the line, not only at its end)
 * parse_rows(buf, vec_start, vec_end, out) -> (first bad row or -1, nan/inf values before it)
 * word_hashes(data, offsets) -> uint64 array                                   the words' hashes
 * same_words(data, offsets, a, b) -> bool array              word a[i] == word b[i], exactly
 * gather_spans(buf, starts, lens) -> (data, offsets)       the spans' bytes, one after another
 * any_equal(hashes) -> bool     two of the uint64 values may be equal (False: none are)
 * scan_binary(buf, pos, dim, max_entries, max_word) -> (word_start, word_end, next, status)
 * copy_rows(buf, starts, out)                       word2vec binary: the entries, their vectors
 *
 * Every value is exactly np.float32(float(token)): the token is rounded correctly to a double
 * (Clinger's fast path when it is exact, else strtod_l in the "C" locale, correctly rounded in
 * glibc), then rounded to float32; the usual token is read eight digits at a time first. All three
 * release the GIL; parse_rows splits its work over the machine's cores, scan_lines over a quarter
 * of them (pthreads; WORDVECS_THREADS sets the number of cores).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 16
#define MIN_BYTES_PER_THREAD (1 << 20)
#define MIN_VALUES_PER_THREAD 65536

static locale_t c_locale = (locale_t)0;

/* ASCII white space as bytes.split() sees it: space, \t, \n, \v, \f, \r. */
static unsigned char is_ws[256];

static void init_tables(void) {
    memset(is_ws, 0, sizeof is_ws);
    is_ws[' '] = is_ws['\t'] = is_ws['\n'] = is_ws['\v'] = is_ws['\f'] = is_ws['\r'] = 1;
}

static int n_threads(void) {
    const char *env = getenv("WORDVECS_THREADS");
    long n = env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    return (int)n;
}

/* ---- numbers ------------------------------------------------------------------------------ */

static const double P10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const uint64_t U10[16] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
                                 10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
                                 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
                                 100000000000000ULL, 1000000000000000ULL};
#define TWO53 (1ULL << 53)

static int lower_eq(const char *p, size_t n, const char *word) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != word[i]) return 0;
    }
    return 1;
}

static double slow_strtod(const char *s, const char *e) {
    char local[128];
    size_t n = (size_t)(e - s);
    char *tmp = n < sizeof local ? local : (char *)malloc(n + 1);
    if (tmp == NULL) return NAN; /* out of memory: cannot happen in practice */
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    double d = strtod_l(tmp, NULL, c_locale);
    if (tmp != local) free(tmp);
    return d;
}

/* Parse the token that starts at p (not white space) and ends at the next white space or e.
 * Returns the end of the token with *out set, or NULL when it is not a number that Python's
 * float() accepts (underscores are refused too). */
static inline const char *parse_token(const char *p, const char *e, float *out) {
    const char *s = p;
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
        if (p == e) return NULL;
    }
    unsigned char c = (unsigned char)*p;
    if ((unsigned)(c - '0') > 9 && c != '.') {
        const char *t = p;
        while (t < e && !is_ws[(unsigned char)*t]) t++;
        size_t n = (size_t)(t - p);
        double v;
        if (n == 3 && lower_eq(p, 3, "nan"))
            v = NAN;
        else if ((n == 3 && lower_eq(p, 3, "inf")) || (n == 8 && lower_eq(p, 8, "infinity")))
            v = INFINITY;
        else
            return NULL;
        *out = (float)(neg ? -v : v);
        return t;
    }
    /* All digits go into one 64-bit accumulator; with more than 19 significant positions it
     * may wrap, and then strtod_l (correctly rounded) takes over. */
    uint64_t mant = 0;
    long exp10 = 0;
    const char *d0 = p;
    while (p < e && (unsigned)(*p - '0') <= 9) {
        mant = mant * 10 + (unsigned)(*p - '0');
        p++;
    }
    Py_ssize_t digits = p - d0;
    if (p < e && *p == '.') {
        p++;
        const char *f0 = p;
        while (p < e && (unsigned)(*p - '0') <= 9) {
            mant = mant * 10 + (unsigned)(*p - '0');
            p++;
        }
        exp10 = -(long)(p - f0);
        digits += p - f0;
    }
    if (digits == 0) return NULL;
    int trunc = digits > 19;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0;
        if (p < e && (*p == '+' || *p == '-')) {
            eneg = *p == '-';
            p++;
        }
        if (p == e || (unsigned)(*p - '0') > 9) return NULL;
        long ev = 0;
        while (p < e && (unsigned)(*p - '0') <= 9) {
            if (ev < 100000000L) ev = ev * 10 + (*p - '0');
            p++;
        }
        exp10 += eneg ? -ev : ev;
    }
    if (p < e && !is_ws[(unsigned char)*p]) return NULL;
    double v;
    if (trunc) {
        *out = (float)slow_strtod(s, p);
        return p;
    } else if (mant == 0) {
        v = 0.0;
    } else if (!trunc && mant <= TWO53 && exp10 >= -22 && exp10 <= 22) {
        /* Clinger: mant and 10^|exp10| are exact doubles, one IEEE operation rounds correctly */
        v = exp10 >= 0 ? (double)mant * P10[exp10] : (double)mant / P10[-exp10];
    } else if (!trunc && exp10 > 22 && exp10 <= 22 + 15 &&
               mant <= TWO53 / U10[exp10 - 22]) {
        v = (double)(mant * U10[exp10 - 22]) * 1e22;
    } else {
        *out = (float)slow_strtod(s, p);
        return p;
    }
    *out = (float)(neg ? -v : v);
    return p;
}

/* ---- the fast path: eight digits at a time (SWAR) ------------------------------------------- */

/* A token read by parse_fast when at least FAST_READ bytes of the buffer follow its start: the
 * 8-byte loads may run past the token (into the next token or line), never past the buffer. */
#define FAST_READ 48
#define FAST_FAIL ((const char *)1)

static inline uint64_t load8(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
    return w; /* little-endian (x86, ARM): byte 0 is the first character */
}

/* How many of the 8 bytes of w, from the first, are ASCII digits (0..8). */
static inline int digit_run(uint64_t w) {
    uint64_t hi = (w & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL; /* not 0x3_ */
    uint64_t lo = ((w & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL;
    uint64_t bad = hi | lo; /* per byte: nonzero high nibble iff not a digit */
    return bad ? __builtin_ctzll(bad) >> 3 : 8;
}

/* The value of the first n (1..8) digits of w: the 8-digit multiply of simdjson and fast_float,
 * with the n digits moved to the low-order end (the bytes shifted in are leading zeros). */
static inline uint64_t digits_value(uint64_t w, int n) {
    uint64_t v = (w - 0x3030303030303030ULL) << (8 * (8 - n));
    v = v * 10 + (v >> 8);
    return (((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32))) +
            (((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32)))) >> 32;
}

/* The common token, [sign] digits [. digits] [e [sign] digits], with at most 19 significant
 * digits, an exponent of at most 7 digits and a value Clinger's fast path rounds exactly; anything
 * else returns FAST_FAIL and parse_token (the general parser) reads the token again. The usual
 * embedding value has one digit before the point: that digit and the first seven after it are
 * read as one 8-byte word. */
static inline const char *parse_fast(const char *p, const char *e, float *out) {
    int neg = *p == '-';
    p += (*p == '-') | (*p == '+');
    uint64_t w = load8(p), mant;
    int digits, exp10;
    if ((w & 0xFFF0) == 0x2E30 && (w & 0xF) <= 9) { /* a digit, then '.' */
        /* d.fffffff: drop the point, take the eighth fraction digit from the next word */
        uint64_t x = (w & 0xFF) | ((w >> 8) & ~0xFFULL) | (load8(p + 8) << 56);
        int n = digit_run(x); /* the digit and n - 1 fraction digits */
        mant = digits_value(x, n);
        p += n + 1;
        digits = n;
        exp10 = 1 - n;
        if (n == 8) {
            w = load8(p);
            int m = digit_run(w);
            if (m) {
                if (m == 8) return FAST_FAIL;
                mant = mant * U10[m] + digits_value(w, m);
                p += m;
                digits += m;
                exp10 -= m;
            }
        }
    } else {
        int n = digit_run(w);
        if (n == 8) return FAST_FAIL;
        mant = n ? digits_value(w, n) : 0;
        digits = n;
        exp10 = 0;
        p += n;
        if (*p == '.') {
            p++;
            w = load8(p);
            int m = digit_run(w);
            if (m) mant = mant * U10[m] + digits_value(w, m);
            p += m;
            digits += m;
            exp10 = -m;
            if (m == 8) {
                w = load8(p);
                m = digit_run(w);
                if (m == 8 || digits + m > 19) return FAST_FAIL;
                if (m) mant = mant * U10[m] + digits_value(w, m);
                p += m;
                digits += m;
                exp10 -= m;
            }
        }
        if (digits == 0) return FAST_FAIL;
    }
    if ((*p | 0x20) == 'e') {
        p++;
        int eneg = *p == '-';
        p += (*p == '-') | (*p == '+');
        w = load8(p);
        int k = digit_run(w);
        if (k == 0 || k == 8) return FAST_FAIL;
        int ev = k == 2 ? (int)((w & 0xF) * 10 + ((w >> 8) & 0xF)) : (int)digits_value(w, k);
        p += k;
        exp10 += eneg ? -ev : ev;
    }
    if (p > e || (p < e && !is_ws[(unsigned char)*p])) return FAST_FAIL;
    double v;
    if ((unsigned)(exp10 + 22) <= 22 && mant <= TWO53) /* Clinger, the usual case */
        v = (double)mant / P10[-exp10];
    else if (exp10 > 0 && exp10 <= 22 && mant <= TWO53)
        v = (double)mant * P10[exp10];
    else if (mant == 0)
        v = 0.0;
    else
        return FAST_FAIL;
    *out = (float)(neg ? -v : v);
    return p;
}

/* The offset of the first space among the 16 bytes at p, or 16 when there is none. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline int first_space16(const char *p) {
    unsigned m = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), _mm_set1_epi8(' ')));
    return __builtin_ctz(m | 0x10000u);
}
#else
static inline int first_space16(const char *p) {
    /* a zero byte of w ^ 0x20...: the lowest flagged byte is exact (borrows only run upward) */
    uint64_t a = load8(p) ^ 0x2020202020202020ULL, b = load8(p + 8) ^ 0x2020202020202020ULL;
    uint64_t za = (a - 0x0101010101010101ULL) & ~a & 0x8080808080808080ULL;
    uint64_t zb = (b - 0x0101010101010101ULL) & ~b & 0x8080808080808080ULL;
    int ia = za ? __builtin_ctzll(za) >> 3 : 8, ib = zb ? __builtin_ctzll(zb) >> 3 : 8;
    return za ? ia : 8 + ib;
}
#endif

/* Parse one span of exactly `dim` numbers into `out`; 0, or -1 when it is bad. lim is the end of
 * the buffer: the fast path reads up to FAST_READ bytes from a token's start. Values that are
 * nan or inf (only the general parser makes them) are counted in *nonfinite. */
static int parse_span(const char *p, const char *e, const char *lim, Py_ssize_t dim,
                      float *out, Py_ssize_t *nonfinite) {
    const int room = lim - e >= FAST_READ; /* for the fast paths at every token of the span */
    Py_ssize_t j = 0;
    for (;;) {
        if (room) {
            /* The usual token: [-]d.ddd (at most 15 digits, a Clinger-exact value) followed by
             * one space, or by the span's end. Any other token leaves this loop; it is read
             * below, and the loop goes on after it. (The digits are read as parse_fast reads
             * them; an inline helper shared by both measured 12% slower here.) */
            while (j < dim) { /* (p at or past e: the token ends past e, and the loop stops) */
                /* The next token's start comes from the first space within 16 bytes, found
                 * apart from this token's parse: the parse of one token need not wait for the
                 * last. */
                const char *stop = p + first_space16(p); /* or p + 16 */
                int neg = *p == '-';
                const char *t = p + neg;
                uint64_t w = load8(t);
                if ((w & 0xFFF0) != 0x2E30 || (w & 0xF) > 9) break; /* not a digit, a point */
                uint64_t x = (w & 0xFF) | ((w >> 8) & ~0xFFULL) | (load8(t + 8) << 56);
                int n = digit_run(x); /* the digit before the point and n - 1 after it */
                uint64_t mant = digits_value(x, n);
                const char *end = t + n + 1;
                int k = n - 1; /* digits after the point */
                if (n == 8) {  /* more than seven after the point: up to seven more */
                    uint64_t w2 = load8(end);
                    int m = digit_run(w2);
                    if (m == 8) break;
                    if (m) mant = mant * U10[m] + digits_value(w2, m);
                    end += m;
                    k += m;
                }
                if (end > e || (end < e && (end != stop || *end != ' ')))
                    break; /* not followed by a space (stop may be p + 16, with no space) */
                float f = (float)((double)mant / P10[k]);
                uint32_t bits;
                memcpy(&bits, &f, 4);
                bits |= (uint32_t)neg << 31; /* no branch: half the values are negative */
                memcpy(out + j++, &bits, 4);
                p = stop + 1;
            }
            if (p > e) return j == dim ? 0 : -1; /* the last token ended the span */
        }
        if (j == dim) break;
        /* one other token: the white space before it skipped, then parse_fast or, where it
         * cannot, the general parser */
        if (p < e && is_ws[(unsigned char)*p])
            do p++;
            while (p < e && is_ws[(unsigned char)*p]);
        if (p == e) return -1;
        const char *q = room || lim - p >= FAST_READ ? parse_fast(p, e, out + j) : FAST_FAIL;
        if (q == FAST_FAIL) {
            if ((q = parse_token(p, e, out + j)) == NULL) return -1;
            *nonfinite += !isfinite(out[j]);
        }
        j++;
        p = q + (q < e && *q == ' '); /* past one space: the next token, usually */
    }
    while (p < e && is_ws[(unsigned char)*p]) p++;
    return p == e ? 0 : -1;
}

/* Run worker on each of nt jobs (an array of `size`-byte structs, or one shared job when size is 0),
 * the first in the calling thread, the others on their own threads; a job whose thread cannot start
 * runs in the caller. */
static void run_jobs(void *(*worker)(void *), void *jobs, size_t size, int nt) {
    pthread_t tids[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    char *job = (char *)jobs;
    for (int t = 1; t < nt; t++)
        started[t] = pthread_create(&tids[t], NULL, worker, job + (size_t)t * size) == 0;
    worker(job);
    for (int t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(tids[t], NULL);
        else
            worker(job + (size_t)t * size);
    }
}

/* ---- parse_rows ---------------------------------------------------------------------------- */

/* The rows are handed out in blocks from a shared counter, so a thread slowed by another
 * process (or by the reader's own thread) does not leave the others waiting at the end. */
typedef struct {
    const char *buf, *lim; /* lim: the end of the buffer */
    const int64_t *vs, *ve;
    float *out;
    Py_ssize_t dim, k, block;
    Py_ssize_t next; /* the first row not yet handed out (atomic) */
    Py_ssize_t bad;  /* the first bad row found so far, or k (atomic) */
    Py_ssize_t nonfinite; /* nan and inf values parsed (atomic) */
} parse_state;

static void *parse_worker(void *arg) {
    parse_state *st = (parse_state *)arg;
    Py_ssize_t nonfinite = 0;
    for (;;) {
        Py_ssize_t r0 = __atomic_fetch_add(&st->next, st->block, __ATOMIC_RELAXED);
        if (r0 >= __atomic_load_n(&st->bad, __ATOMIC_RELAXED)) break; /* also r0 >= k */
        Py_ssize_t r1 = r0 + st->block < st->k ? r0 + st->block : st->k;
        for (Py_ssize_t r = r0; r < r1; r++) {
            if (parse_span(st->buf + st->vs[r], st->buf + st->ve[r], st->lim, st->dim,
                           st->out + r * st->dim, &nonfinite) < 0) {
                Py_ssize_t seen = __atomic_load_n(&st->bad, __ATOMIC_RELAXED);
                while (r < seen && !__atomic_compare_exchange_n(&st->bad, &seen, r, 0,
                                                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
                    ;
                break;
            }
        }
    }
    __atomic_fetch_add(&st->nonfinite, nonfinite, __ATOMIC_RELAXED);
    return NULL;
}

/* The first bad row (or -1); *nonfinite: the nan and inf values in the rows before it. */
static Py_ssize_t run_parse(const char *buf, Py_ssize_t size, const int64_t *vs,
                            const int64_t *ve, float *out, Py_ssize_t k, Py_ssize_t dim,
                            Py_ssize_t *nonfinite) {
    int nt = n_threads();
    Py_ssize_t by_size = (k * dim) / MIN_VALUES_PER_THREAD;
    if (by_size < nt) nt = by_size < 1 ? 1 : (int)by_size;
    Py_ssize_t block = 16384 / dim; /* about 64 KB of output per block */
    parse_state st = {buf, buf + size, vs, ve, out, dim, k, block < 1 ? 1 : block, 0, k, 0};
    run_jobs(parse_worker, &st, 0, nt); /* every thread shares the one state */
    if (st.bad == k) {
        *nonfinite = st.nonfinite;
        return -1;
    }
    /* a bad row: count again in the rows before it (some parsed rows may lie after it) */
    *nonfinite = 0;
    for (Py_ssize_t i = 0; i < st.bad * dim; i++) *nonfinite += !isfinite(out[i]);
    return st.bad;
}

static PyArrayObject *as_int64(PyObject *obj, const char *what) {
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (a == NULL) return NULL;
    if (PyArray_NDIM(a) != 1) {
        PyErr_Format(PyExc_ValueError, "%s must be a 1-d integer array", what);
        Py_DECREF(a);
        return NULL;
    }
    return a;
}

/* True when obj is a writeable C-contiguous 2-d float32 array (the output of parse_rows and
   copy_rows); otherwise sets a ValueError and returns false. */
static int is_out_matrix(PyObject *obj) {
    if (!PyArray_Check(obj) || PyArray_TYPE((PyArrayObject *)obj) != NPY_FLOAT32 ||
        PyArray_NDIM((PyArrayObject *)obj) != 2 ||
        !PyArray_IS_C_CONTIGUOUS((PyArrayObject *)obj) ||
        !PyArray_ISWRITEABLE((PyArrayObject *)obj)) {
        PyErr_SetString(PyExc_ValueError, "out must be a writeable C-contiguous 2-d float32 array");
        return 0;
    }
    return 1;
}

static PyObject *parse_rows(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *vs_obj, *ve_obj, *out_obj;
    PyArrayObject *vs = NULL, *ve = NULL;
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*OOO:parse_rows", &view, &vs_obj, &ve_obj, &out_obj)) return NULL;
    if (!is_out_matrix(out_obj)) goto done;
    PyArrayObject *out = (PyArrayObject *)out_obj;
    Py_ssize_t k = PyArray_DIM(out, 0), dim = PyArray_DIM(out, 1);
    if ((vs = as_int64(vs_obj, "vec_start")) == NULL || (ve = as_int64(ve_obj, "vec_end")) == NULL)
        goto done;
    if (PyArray_DIM(vs, 0) < k || PyArray_DIM(ve, 0) < k) {
        PyErr_Format(PyExc_ValueError, "vec_start and vec_end need %zd rows (out has %zd)", k, k);
        goto done;
    }
    const int64_t *s = (const int64_t *)PyArray_DATA(vs), *e = (const int64_t *)PyArray_DATA(ve);
    for (Py_ssize_t r = 0; r < k; r++) {
        if (s[r] < 0 || s[r] > e[r] || e[r] > view.len) {
            PyErr_Format(PyExc_ValueError, "row %zd: span %lld:%lld is outside the buffer (%zd bytes)",
                         r, (long long)s[r], (long long)e[r], view.len);
            goto done;
        }
    }
    Py_ssize_t bad = -1, nonfinite = 0;
    if (k > 0 && dim > 0) {
        Py_BEGIN_ALLOW_THREADS bad = run_parse((const char *)view.buf, view.len, s, e,
                                               (float *)PyArray_DATA(out), k, dim, &nonfinite);
        Py_END_ALLOW_THREADS
    } else if (dim == 0) {
        for (Py_ssize_t r = 0; r < k; r++) {
            const char *p = (const char *)view.buf + s[r], *q = (const char *)view.buf + e[r];
            if (parse_span(p, q, q, 0, NULL, &nonfinite) < 0) {
                bad = r;
                break;
            }
        }
    }
    result = Py_BuildValue("(nn)", bad, nonfinite);
done:
    Py_XDECREF(vs);
    Py_XDECREF(ve);
    PyBuffer_Release(&view);
    return result;
}

/* ---- scan_lines ---------------------------------------------------------------------------- */

typedef struct {
    const char *buf;
    Py_ssize_t size, pos, i0, i1, dim;
    int64_t *ws, *we, *vs, *ve, *nf;
} scan_job;

static void scan_line(const char *buf, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t dim, int64_t *ws,
                      int64_t *we, int64_t *vs, int64_t *ve, int64_t *nf) {
    while (end > pos && is_ws[(unsigned char)buf[end - 1]]) end--;
    *ws = *we = *vs = *ve = 0;
    if (end == pos) {
        *nf = 0;
        return;
    }
    if (buf[pos] != ' ') {
        /* the usual line: single spaces only; a loop the compiler vectorises */
        const unsigned char *u = (const unsigned char *)buf + pos;
        Py_ssize_t len = end - pos, spaces = 0;
        unsigned char odd = 0;
        /* byte-wide counters, flushed every 255 bytes, keep all 16 lanes of a vector busy */
        for (Py_ssize_t i = 0; i + 1 < len;) { /* \t \v \f \r, or two spaces in a row */
            Py_ssize_t stop = i + 255 < len - 1 ? i + 255 : len - 1;
            unsigned char count = 0;
            for (; i < stop; i++) {
                unsigned char ch = u[i];
                unsigned char sp = ch == ' ';
                count += sp;
                odd |= (unsigned char)((unsigned char)(ch - 9u) < 5u) | (sp & (u[i + 1] == ' '));
            }
            spaces += count;
        } /* the last byte is not white space (the line is trimmed) */
        if (!odd) {
            *nf = spaces + 1;
            if (spaces + 1 > dim) {
                if (spaces == dim) {
                    const char *sp = memchr(buf + pos, ' ', (size_t)len);
                    *ws = pos;
                    *we = sp - buf;
                    *vs = *we + 1;
                    *ve = end;
                    return;
                }
            } else {
                return;
            }
        }
    }
    if (memchr(buf + pos, '\r', (size_t)(end - pos)) != NULL) { /* a lone \r inside the line */
        *nf = -1;
        return;
    }
    Py_ssize_t p = pos, count = 0, first_end = 0, second_start = 0;
    while (p < end && is_ws[(unsigned char)buf[p]]) p++;
    Py_ssize_t lead = p;
    while (p < end) {
        if (count == 1) second_start = p;
        count++;
        while (p < end && !is_ws[(unsigned char)buf[p]]) p++;
        if (count == 1) first_end = p;
        while (p < end && is_ws[(unsigned char)buf[p]]) p++;
    }
    *nf = count;
    if (count <= dim) return;
    *ws = lead;
    *ve = end;
    if (count == dim + 1) {
        *we = first_end;
        *vs = second_start;
        return;
    }
    /* a word with white space: the vector is the last dim fields, found from the end */
    p = end;
    for (Py_ssize_t f = 0; f < dim; f++) {
        while (!is_ws[(unsigned char)buf[p - 1]]) p--;
        if (f + 1 < dim)
            while (is_ws[(unsigned char)buf[p - 1]]) p--;
    }
    *vs = p;
    while (is_ws[(unsigned char)buf[p - 1]]) p--;
    *we = p;
}

static void *scan_worker(void *arg) {
    scan_job *j = (scan_job *)arg;
    Py_ssize_t pos = j->pos;
    for (Py_ssize_t i = j->i0; i < j->i1; i++) {
        const char *nl = memchr(j->buf + pos, '\n', (size_t)(j->size - pos));
        Py_ssize_t end = nl ? (Py_ssize_t)(nl - j->buf) : j->size;
        scan_line(j->buf, pos, end, j->dim, j->ws + i, j->we + i, j->vs + i, j->ve + i, j->nf + i);
        pos = end + 1;
    }
    return NULL;
}

static Py_ssize_t count_lines(const char *buf, Py_ssize_t size) {
    Py_ssize_t n = 0, pos = 0;
    const char *nl;
    while (pos < size && (nl = memchr(buf + pos, '\n', (size_t)(size - pos))) != NULL) {
        n++;
        pos = (Py_ssize_t)(nl - buf) + 1;
    }
    if (size > 0 && buf[size - 1] != '\n') n++;
    return n;
}

/* The scan of one chunk runs beside the parse of the one before, which uses every core, and is
 * about a sixth of its work: a quarter of the cores is its share (one thread on up to 7 cores;
 * on 2 cores a second scan thread made the whole GloVe 50d read 13% slower). */
static void run_scan(const char *buf, Py_ssize_t size, Py_ssize_t n, Py_ssize_t dim, int64_t **arrs) {
    int nt = n_threads() / 4;
    if (nt < 1) nt = 1;
    Py_ssize_t by_size = size / MIN_BYTES_PER_THREAD;
    if (by_size < nt) nt = by_size < 1 ? 1 : (int)by_size;
    if (nt > n) nt = n < 1 ? 1 : (int)n;
    scan_job jobs[MAX_THREADS];
    Py_ssize_t line = 0, pos = 0;
    for (int t = 0; t < nt; t++) {
        Py_ssize_t i0 = n * t / nt;
        while (line < i0) { /* move pos to the start of line i0 */
            const char *nl = memchr(buf + pos, '\n', (size_t)(size - pos));
            pos = (Py_ssize_t)(nl - buf) + 1;
            line++;
        }
        jobs[t] = (scan_job){buf, size, pos, i0, n * (t + 1) / nt, dim,
                             arrs[0], arrs[1], arrs[2], arrs[3], arrs[4]};
    }
    run_jobs(scan_worker, jobs, sizeof jobs[0], nt);
}

static PyObject *scan_lines(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t dim;
    if (!PyArg_ParseTuple(args, "y*n:scan_lines", &view, &dim)) return NULL;
    const char *buf = (const char *)view.buf;
    Py_ssize_t size = view.len, n;
    Py_BEGIN_ALLOW_THREADS n = count_lines(buf, size);
    Py_END_ALLOW_THREADS
    npy_intp shape[1] = {n};
    PyObject *arrays[5] = {NULL};
    int64_t *data[5];
    for (int a = 0; a < 5; a++) {
        arrays[a] = PyArray_SimpleNew(1, shape, NPY_INT64);
        if (arrays[a] == NULL) {
            for (int b = 0; b < a; b++) Py_DECREF(arrays[b]);
            PyBuffer_Release(&view);
            return NULL;
        }
        data[a] = (int64_t *)PyArray_DATA((PyArrayObject *)arrays[a]);
    }
    if (n > 0) {
        Py_BEGIN_ALLOW_THREADS run_scan(buf, size, n, dim, data);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&view);
    return Py_BuildValue("(NNNNN)", arrays[0], arrays[1], arrays[2], arrays[3], arrays[4]);
}

/* ---- word_hashes --------------------------------------------------------------------------- */

#define HASH_BASE 0x100000001B3ULL /* FNV's prime; any odd 64-bit multiplier would do */

static PyObject *word_hashes(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *off_obj;
    if (!PyArg_ParseTuple(args, "y*O:word_hashes", &view, &off_obj)) return NULL;
    PyArrayObject *off = (PyArrayObject *)PyArray_FROM_OTF(off_obj, NPY_INT32, NPY_ARRAY_IN_ARRAY);
    PyObject *result = NULL;
    if (off == NULL) goto done;
    Py_ssize_t n = PyArray_NDIM(off) == 1 ? PyArray_DIM(off, 0) - 1 : -1;
    const int32_t *o = (const int32_t *)PyArray_DATA(off);
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "offsets must be a 1-d array of at least one item");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (o[i] < 0 || o[i] > o[i + 1] || o[i + 1] > view.len) {
            PyErr_Format(PyExc_ValueError, "word %zd: span %d:%d is outside the data", i, o[i],
                         o[i + 1]);
            goto done;
        }
    }
    npy_intp shape[1] = {n};
    result = PyArray_SimpleNew(1, shape, NPY_UINT64);
    if (result == NULL) goto done;
    uint64_t *h = (uint64_t *)PyArray_DATA((PyArrayObject *)result);
    const unsigned char *d = (const unsigned char *)view.buf;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n; i++) {
        uint64_t sum = 0, power = 1;
        for (int32_t j = o[i]; j < o[i + 1]; j++) {
            sum += ((uint64_t)d[j] + 1) * power;
            power *= HASH_BASE;
        }
        h[i] = sum + (uint64_t)(o[i + 1] - o[i]);
    }
    Py_END_ALLOW_THREADS
done:
    Py_XDECREF(off);
    PyBuffer_Release(&view);
    return result;
}

/* ---- gather_spans, any_equal ------------------------------------------------------------- */

/* gather_spans(buf, starts, lens) -> (data, offsets): the bytes buf[starts[i]:starts[i] + lens[i]]
 * one after another (uint8) and their int32 offsets (len(starts) + 1 of them). */
static PyObject *gather_spans(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *st_obj, *ln_obj, *data = NULL, *offs = NULL, *result = NULL;
    PyArrayObject *st = NULL, *ln = NULL;
    if (!PyArg_ParseTuple(args, "y*OO:gather_spans", &view, &st_obj, &ln_obj)) return NULL;
    if ((st = as_int64(st_obj, "starts")) == NULL || (ln = as_int64(ln_obj, "lens")) == NULL)
        goto done;
    Py_ssize_t n = PyArray_DIM(st, 0);
    if (PyArray_DIM(ln, 0) != n) {
        PyErr_SetString(PyExc_ValueError, "starts and lens must have one length");
        goto done;
    }
    const int64_t *s = (const int64_t *)PyArray_DATA(st), *l = (const int64_t *)PyArray_DATA(ln);
    int64_t total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < 0 || l[i] < 0 || s[i] > view.len || l[i] > view.len - s[i]) {
            PyErr_Format(PyExc_ValueError, "span %zd (%lld:+%lld) is outside the buffer (%zd bytes)",
                         i, (long long)s[i], (long long)l[i], view.len);
            goto done;
        }
        total += l[i];
        if (total >= ((int64_t)1 << 31)) {
            PyErr_SetString(PyExc_ValueError, "the spans exceed 2 GB (int32 offsets)");
            goto done;
        }
    }
    npy_intp dshape[1] = {(npy_intp)total}, oshape[1] = {n + 1};
    if ((data = PyArray_SimpleNew(1, dshape, NPY_UINT8)) == NULL ||
        (offs = PyArray_SimpleNew(1, oshape, NPY_INT32)) == NULL)
        goto done;
    char *d = (char *)PyArray_DATA((PyArrayObject *)data);
    int32_t *o = (int32_t *)PyArray_DATA((PyArrayObject *)offs);
    const char *b = (const char *)view.buf;
    Py_BEGIN_ALLOW_THREADS int32_t at = 0;
    o[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        memcpy(d + at, b + s[i], (size_t)l[i]);
        at += (int32_t)l[i];
        o[i + 1] = at;
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OO)", data, offs);
done:
    Py_XDECREF(data);
    Py_XDECREF(offs);
    Py_XDECREF(st);
    Py_XDECREF(ln);
    PyBuffer_Release(&view);
    return result;
}

/* any_equal(hashes) -> bool: True when two of the uint64 values may be equal, False when none
 * are. A set of 32-bit fingerprints: the slot comes from the value's low bits, the fingerprint is
 * its high 32 bits, so a False is exact and a True is wrong only for two values that agree on 52
 * bits (about 2e-5 for 400,000 random hashes; the caller then compares the words). Half the
 * memory of a set of the values themselves: 4 MB of fresh pages for 400,000 words. */
static PyObject *any_equal(PyObject *self, PyObject *args) {
    PyObject *h_obj;
    if (!PyArg_ParseTuple(args, "O:any_equal", &h_obj)) return NULL;
    PyArrayObject *h = (PyArrayObject *)PyArray_FROM_OTF(h_obj, NPY_UINT64, NPY_ARRAY_IN_ARRAY);
    if (h == NULL) return NULL;
    if (PyArray_NDIM(h) != 1) {
        Py_DECREF(h);
        PyErr_SetString(PyExc_ValueError, "hashes must be a 1-d array");
        return NULL;
    }
    Py_ssize_t n = PyArray_DIM(h, 0);
    const uint64_t *v = (const uint64_t *)PyArray_DATA(h);
    int bits = 4;
    while (bits < 40 && ((size_t)1 << bits) < (size_t)n * 2) bits++;
    size_t cap = (size_t)1 << bits, mask = cap - 1;
    uint32_t *table = (uint32_t *)calloc(cap, sizeof *table); /* 0: an empty slot */
    if (table == NULL) {
        Py_DECREF(h);
        return PyErr_NoMemory();
    }
    int found = 0;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n && !found; i++) {
        uint64_t x = v[i] * 0x9E3779B97F4A7C15ULL; /* (odd: a bijection, every bit mixed up) */
        uint32_t fp = (uint32_t)(x >> 32) | 1u;       /* never 0; the low bit is given up */
        size_t at = (size_t)x & mask;
        while (table[at] != 0 && table[at] != fp) at = (at + 1) & mask;
        found = table[at] == fp;
        table[at] = fp;
    }
    Py_END_ALLOW_THREADS
    free(table);
    Py_DECREF(h);
    return PyBool_FromLong(found);
}

/* ---- same_words ---------------------------------------------------------------------------- */

/* same_words(data, offsets, a, b) -> bool array: word a[i] equals word b[i] byte for byte. */
static PyObject *same_words(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *off_obj, *a_obj, *b_obj, *result = NULL;
    PyArrayObject *off = NULL, *a = NULL, *b = NULL;
    if (!PyArg_ParseTuple(args, "y*OOO:same_words", &view, &off_obj, &a_obj, &b_obj)) return NULL;
    off = (PyArrayObject *)PyArray_FROM_OTF(off_obj, NPY_INT64, NPY_ARRAY_IN_ARRAY);
    if (off == NULL || (a = as_int64(a_obj, "a")) == NULL || (b = as_int64(b_obj, "b")) == NULL)
        goto done;
    Py_ssize_t nw = PyArray_NDIM(off) == 1 ? PyArray_DIM(off, 0) - 1 : -1, n = PyArray_DIM(a, 0);
    if (nw < 0 || PyArray_DIM(b, 0) != n) {
        PyErr_SetString(PyExc_ValueError, "offsets must be 1-d; a and b of one length");
        goto done;
    }
    const int64_t *o = (const int64_t *)PyArray_DATA(off);
    const int64_t *ia = (const int64_t *)PyArray_DATA(a), *ib = (const int64_t *)PyArray_DATA(b);
    for (Py_ssize_t i = 0; i < nw; i++)
        if (o[i] < 0 || o[i] > o[i + 1] || o[i + 1] > view.len) {
            PyErr_Format(PyExc_ValueError, "word %zd is outside the data", i);
            goto done;
        }
    for (Py_ssize_t i = 0; i < n; i++)
        if (ia[i] < 0 || ia[i] >= nw || ib[i] < 0 || ib[i] >= nw) {
            PyErr_Format(PyExc_ValueError, "pair %zd names a word that does not exist", i);
            goto done;
        }
    npy_intp shape[1] = {n};
    result = PyArray_SimpleNew(1, shape, NPY_BOOL);
    if (result == NULL) goto done;
    npy_bool *r = (npy_bool *)PyArray_DATA((PyArrayObject *)result);
    const char *d = (const char *)view.buf;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < n; i++) {
        int64_t la = o[ia[i] + 1] - o[ia[i]], lb = o[ib[i] + 1] - o[ib[i]];
        r[i] = la == lb && memcmp(d + o[ia[i]], d + o[ib[i]], (size_t)la) == 0;
    }
    Py_END_ALLOW_THREADS
done:
    Py_XDECREF(off);
    Py_XDECREF(a);
    Py_XDECREF(b);
    PyBuffer_Release(&view);
    return result;
}

/* ---- word2vec binary ----------------------------------------------------------------------- */

/* scan_binary(buf, pos, dim, max_entries, max_word) -> (word_start, word_end, next, status)
 * Entries from pos: '\n' and '\r' before a word are skipped, the word runs to the next space, the
 * vector is the 4*dim bytes after it. status 0: the buffer ends before the next entry is whole
 * (or the buffer is done); 1: no space within max_word bytes of `next`; 2: max_entries read. */
static PyObject *scan_binary(PyObject *self, PyObject *args) {
    Py_buffer view;
    Py_ssize_t pos, dim, max_entries, max_word;
    if (!PyArg_ParseTuple(args, "y*nnnn:scan_binary", &view, &pos, &dim, &max_entries, &max_word))
        return NULL;
    const char *buf = (const char *)view.buf;
    Py_ssize_t size = view.len, vec = 4 * dim;
    if (pos < 0 || pos > size || dim < 1 || max_entries < 0 || max_word < 1) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "scan_binary: bad arguments");
        return NULL;
    }
    Py_ssize_t cap = (size - pos) / (vec + 1) + 1;
    if (cap > max_entries) cap = max_entries;
    npy_intp shape[1] = {cap};
    PyObject *ws_obj = PyArray_SimpleNew(1, shape, NPY_INT64);
    PyObject *we_obj = PyArray_SimpleNew(1, shape, NPY_INT64);
    if (ws_obj == NULL || we_obj == NULL) {
        Py_XDECREF(ws_obj);
        Py_XDECREF(we_obj);
        PyBuffer_Release(&view);
        return NULL;
    }
    int64_t *ws = (int64_t *)PyArray_DATA((PyArrayObject *)ws_obj);
    int64_t *we = (int64_t *)PyArray_DATA((PyArrayObject *)we_obj);
    Py_ssize_t n = 0;
    int status = 0;
    Py_BEGIN_ALLOW_THREADS for (;;) {
        if (n == max_entries) {
            status = 2;
            break;
        }
        while (pos < size && (buf[pos] == '\n' || buf[pos] == '\r')) pos++;
        if (pos >= size) break;
        Py_ssize_t room = size - pos < max_word ? size - pos : max_word;
        const char *sp = memchr(buf + pos, ' ', (size_t)room);
        if (sp == NULL) {
            status = size - pos >= max_word ? 1 : 0;
            break;
        }
        Py_ssize_t s = sp - buf;
        if (s + 1 + vec > size) break;
        ws[n] = pos;
        we[n] = s;
        n++;
        pos = s + 1 + vec;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    /* cap >= n always: each entry takes at least vec + 1 bytes */
    PyObject *ws_n = PySequence_GetSlice(ws_obj, 0, n), *we_n = PySequence_GetSlice(we_obj, 0, n);
    Py_DECREF(ws_obj);
    Py_DECREF(we_obj);
    if (ws_n == NULL || we_n == NULL) {
        Py_XDECREF(ws_n);
        Py_XDECREF(we_n);
        return NULL;
    }
    return Py_BuildValue("(NNni)", ws_n, we_n, pos, status);
}

/* copy_rows(buf, starts, out): row i of out (float32, C order) is the 4*dim bytes at starts[i]. */
static PyObject *copy_rows(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *st_obj, *out_obj, *result = NULL;
    PyArrayObject *st = NULL;
    if (!PyArg_ParseTuple(args, "y*OO:copy_rows", &view, &st_obj, &out_obj)) return NULL;
    if (!is_out_matrix(out_obj)) goto done;
    PyArrayObject *out = (PyArrayObject *)out_obj;
    Py_ssize_t k = PyArray_DIM(out, 0), row = 4 * PyArray_DIM(out, 1);
    if ((st = as_int64(st_obj, "starts")) == NULL) goto done;
    if (PyArray_DIM(st, 0) != k) {
        PyErr_SetString(PyExc_ValueError, "starts needs one entry per row of out");
        goto done;
    }
    const int64_t *s = (const int64_t *)PyArray_DATA(st);
    for (Py_ssize_t i = 0; i < k; i++)
        if (s[i] < 0 || s[i] + row > view.len) {
            PyErr_Format(PyExc_ValueError, "row %zd starts outside the buffer", i);
            goto done;
        }
    char *o = (char *)PyArray_DATA(out);
    const char *b = (const char *)view.buf;
    Py_BEGIN_ALLOW_THREADS for (Py_ssize_t i = 0; i < k; i++) memcpy(o + i * row, b + s[i], (size_t)row);
    Py_END_ALLOW_THREADS
    Py_INCREF(Py_None);
    result = Py_None;
done:
    Py_XDECREF(st);
    PyBuffer_Release(&view);
    return result;
}

/* ---- module -------------------------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"scan_lines", scan_lines, METH_VARARGS,
     "scan_lines(buf, dim) -> (word_start, word_end, vec_start, vec_end, nfields): see _pykernel."},
    {"parse_rows", parse_rows, METH_VARARGS,
     "parse_rows(buf, vec_start, vec_end, out) -> (first bad row or -1, nonfinite): see _pykernel."},
    {"word_hashes", word_hashes, METH_VARARGS,
     "word_hashes(data, offsets) -> a uint64 hash of each word: see _pykernel."},
    {"gather_spans", gather_spans, METH_VARARGS,
     "gather_spans(buf, starts, lens) -> (data, offsets): the spans' bytes, one after another."},
    {"any_equal", any_equal, METH_VARARGS,
     "any_equal(hashes) -> False when no two are equal; True when two may be."},
    {"same_words", same_words, METH_VARARGS,
     "same_words(data, offsets, a, b) -> bool array, word a[i] == word b[i]: see _pykernel."},
    {"scan_binary", scan_binary, METH_VARARGS,
     "scan_binary(buf, pos, dim, max_entries, max_word) -> (word_start, word_end, next, status)"},
    {"copy_rows", copy_rows, METH_VARARGS,
     "copy_rows(buf, starts, out): row i of out is the 4 * dim bytes at starts[i]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "wordvecs._ckernel",
    "The compiled text kernel: the contract of wordvecs.formats._pykernel, at the machine's speed.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__ckernel(void) {
    import_array();
    init_tables();
    if (c_locale == (locale_t)0) {
        c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
        if (c_locale == (locale_t)0) {
            PyErr_SetString(PyExc_ImportError, "cannot create the C locale");
            return NULL;
        }
    }
    PyObject *m = PyModule_Create(&moduledef);
    if (m == NULL) return NULL;
    if (PyModule_AddStringConstant(m, "NAME", "c") < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
