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
    if (((w >> 8) & 0xFF) == '.' && (unsigned)((w & 0xFF) - '0') <= 9) {
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
    if (exp10 < 0 && exp10 >= -22 && mant <= TWO53) /* Clinger, the usual case */
        v = (double)mant / P10[-exp10];
    else if (exp10 >= 0 && exp10 <= 22 && mant <= TWO53)
        v = (double)mant * P10[exp10];
    else if (mant == 0)
        v = 0.0;
    else
        return FAST_FAIL;
    *out = (float)(neg ? -v : v);
    return p;
}

/* Parse one span of exactly `dim` numbers into `out`; 0, or -1 when it is bad. lim is the end of
 * the buffer: the fast path reads up to FAST_READ bytes from a token's start. */
static int parse_span(const char *p, const char *e, const char *lim, Py_ssize_t dim,
                      float *out) {
    for (Py_ssize_t j = 0; j < dim; j++) {
        if (p < e && is_ws[(unsigned char)*p]) /* after a token: one space, usually */
            do p++;
            while (p < e && is_ws[(unsigned char)*p]);
        if (p == e) return -1;
        const char *q = lim - p >= FAST_READ ? parse_fast(p, e, out + j) : FAST_FAIL;
        if (q == FAST_FAIL) q = parse_token(p, e, out + j);
        if ((p = q) == NULL) return -1;
    }
    while (p < e && is_ws[(unsigned char)*p]) p++;
    return p == e ? 0 : -1;
}

