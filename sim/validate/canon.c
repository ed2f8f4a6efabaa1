/* The canonical text (sim/validate/canonical.py) of each common NDJSON line, in one pass over
 * its bytes: parsed, null members dropped, members sorted by name (code point order, which is
 * UTF-8 byte order), the last of repeated names kept, strings written as orjson writes them.
 *
 * Only what needs no judgement is done here; any other line is left to the Python reading (its
 * status bit stays 0), which decides it exactly as before:
 * - numbers: integers of up to 29 digits, written as they are ("-0" is "0"; a line holding one of
 *   more than 15 is flagged, see canon_lines); decimals of up
 *   to 15 characters without an exponent, whose value is at least 1e-4 when below 1: at most 14
 *   significant digits, so the nearest double prints back as the token's own digits (trailing
 *   zeros dropped; an integral one as its integer). A longer decimal is read as the double nearest
 *   it and written as that double's shortest digits (below) when they are the token's own value
 *   (trailing zeros aside), the line flagged like a long integer's; any other goes back, as does
 *   any exponent.
 * - strings: valid UTF-8 and JSON escapes; a lone surrogate, a raw control character or invalid
 *   UTF-8 goes back.
 * - a line that is not one JSON object (with whitespace around it), or nests deeper than
 *   MAX_DEPTH, goes back.
 * The Python reading remains the reference: tests/unit/test_canon_native.py compares both on
 * drawn and mutated lines.
 *
 * join_rows, at the end, is the last step of a Parquet row's text (rowtext.py): the pieces of
 * every row (constant bytes, and the texts of its values, made in Arrow) put together; and
 * double_texts writes a double column's values as canonical.double does.
 *
 * A double's shortest digits (shortest_digits) are orjson's: the fewest significant digits that
 * read back as the double, the nearest of them to it. Up to 15 digits they are found exactly with
 * two correctly rounded operations per decimal place tried (no two 15-digit decimals read back as
 * one double, so the one found is the one); 16 or 17 digits come from printf's correctly rounded
 * %.15e / %.16e checked by strtod, except for a power of two (its rounding interval is lopsided,
 * so the nearest 16-digit decimal may not be the one that reads back): left to orjson.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64
#define SWAR_ONES 0x0101010101010101ULL
#define SWAR_HIGH 0x8080808080808080ULL
#define SWAR_ZERO(x) (((x) - SWAR_ONES) & ~(x) & SWAR_HIGH)              /* a zero byte in x */
#define SWAR_LESS(x, n) (((x) - SWAR_ONES * (n)) & ~(x) & SWAR_HIGH)     /* a byte below n (n <= 128) */
#define MAX_NUMBER 15
#define MAX_INTEGER 29 /* integers below 10^30 are written as their digits (canonical.integer) */

typedef struct {
    const uint8_t *key; /* decoded name */
    size_t key_len;
    size_t esc_off, esc_len; /* the name as written ("...") in the arena */
    size_t val_off, val_len;
    int is_null;
    size_t pos;
} Member;

typedef struct {
    const uint8_t *p, *end;
    uint8_t *arena;
    size_t cap, len;
    Member *members;
    size_t members_cap, members_top;
    int depth;
    int fail;
    int long_integer; /* an integer of more than MAX_NUMBER digits was read */
} Ctx;

typedef struct {
    size_t off, len;
    int is_null;
} Text;

static inline __attribute__((always_inline)) int room(Ctx *c, size_t n) {
    if (c->len + n > c->cap) {
        c->fail = 1;
        return 0;
    }
    return 1;
}

static inline __attribute__((always_inline)) void put(Ctx *c, const void *src, size_t n) {
    if (!room(c, n)) return;
    uint8_t *dst = c->arena + c->len;
    if (n <= 16) { /* most pieces are short: a call to memcpy costs more than the copy */
        const uint8_t *from = src;
        for (size_t i = 0; i < n; i++) dst[i] = from[i];
    } else {
        memcpy(dst, src, n);
    }
    c->len += n;
}

static inline __attribute__((always_inline)) void put1(Ctx *c, uint8_t b) {
    if (!room(c, 1)) return;
    c->arena[c->len++] = b;
}

static inline __attribute__((always_inline)) void ws(Ctx *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int hex4(const uint8_t *p, const uint8_t *end, uint32_t *out) {
    uint32_t v = 0;
    if (end - p < 4) return 0;
    for (int i = 0; i < 4; i++) {
        uint8_t h = p[i];
        v <<= 4;
        if (h >= '0' && h <= '9') v |= h - '0';
        else if (h >= 'a' && h <= 'f') v |= h - 'a' + 10;
        else if (h >= 'A' && h <= 'F') v |= h - 'A' + 10;
        else return 0;
    }
    *out = v;
    return 1;
}

static void put_utf8(Ctx *c, uint32_t cp) {
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) { b[0] = (uint8_t)cp; n = 1; }
    else if (cp < 0x800) { b[0] = 0xC0 | (cp >> 6); b[1] = 0x80 | (cp & 0x3F); n = 2; }
    else if (cp < 0x10000) { b[0] = 0xE0 | (cp >> 12); b[1] = 0x80 | ((cp >> 6) & 0x3F); b[2] = 0x80 | (cp & 0x3F); n = 3; }
    else { b[0] = 0xF0 | (cp >> 18); b[1] = 0x80 | ((cp >> 12) & 0x3F); b[2] = 0x80 | ((cp >> 6) & 0x3F); b[3] = 0x80 | (cp & 0x3F); n = 4; }
    put(c, b, n);
}

/* The length of the valid UTF-8 sequence at p (a non-ASCII lead byte), or 0. */
static size_t utf8_len(const uint8_t *p, const uint8_t *end) {
    uint8_t b = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) n = 2;
    else if (b == 0xE0) { n = 3; lo = 0xA0; }
    else if (b >= 0xE1 && b <= 0xEC) n = 3;
    else if (b == 0xED) { n = 3; hi = 0x9F; }
    else if (b >= 0xEE && b <= 0xEF) n = 3;
    else if (b == 0xF0) { n = 4; lo = 0x90; }
    else if (b >= 0xF1 && b <= 0xF3) n = 4;
    else if (b == 0xF4) { n = 4; hi = 0x8F; }
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return n;
}

/* A string: its canonical text, and where its decoded bytes are (*dec, *dec_len): in the line
 * itself when it holds no escape (then its text is its bytes as they are), else in the arena. */
static Text string(Ctx *c, const uint8_t **dec, size_t *dec_len) {
    Text t = {0, 0, 0};
    const uint8_t *s = c->p + 1, *q = s;
    while (c->end - q >= 8) { /* eight bytes at a time while none is a quote, a backslash, a control or non-ASCII byte */
        uint64_t v;
        memcpy(&v, q, 8);
        if (SWAR_LESS(v, 0x20) | (v & SWAR_HIGH) | SWAR_ZERO(v ^ (SWAR_ONES * '"')) | SWAR_ZERO(v ^ (SWAR_ONES * '\\')))
            break;
        q += 8;
    }
    while (q < c->end) {
        uint8_t b = *q;
        if (b == '"') break;
        if (b == '\\' || b < 0x20) break;
        if (b < 0x80) { q++; continue; }
        size_t n = utf8_len(q, c->end);
        if (!n) { c->fail = 1; return t; }
        q += n;
    }
    if (q < c->end && *q == '"') { /* nothing to decode: written as it is */
        *dec = s;
        *dec_len = q - s;
        t.off = c->len;
        put(c, s - 1, (q - s) + 2);
        t.len = c->len - t.off;
        c->p = q + 1;
        return t;
    }
    c->p++; /* the opening quote */
    size_t start = c->len;
    for (;;) {
        if (c->p >= c->end) { c->fail = 1; return t; }
        uint8_t b = *c->p;
        if (b == '"') { c->p++; break; }
        if (b == '\\') {
            if (c->end - c->p < 2) { c->fail = 1; return t; }
            uint8_t e = c->p[1];
            c->p += 2;
            switch (e) {
            case '"': put1(c, '"'); break;
            case '\\': put1(c, '\\'); break;
            case '/': put1(c, '/'); break;
            case 'b': put1(c, 0x08); break;
            case 'f': put1(c, 0x0C); break;
            case 'n': put1(c, 0x0A); break;
            case 'r': put1(c, 0x0D); break;
            case 't': put1(c, 0x09); break;
            case 'u': {
                uint32_t cp, low;
                if (!hex4(c->p, c->end, &cp)) { c->fail = 1; return t; }
                c->p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) { c->fail = 1; return t; } /* a lone low surrogate */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || !hex4(c->p + 2, c->end, &low)
                        || low < 0xDC00 || low > 0xDFFF) { c->fail = 1; return t; } /* a lone high one */
                    c->p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                put_utf8(c, cp);
                break;
            }
            default: c->fail = 1; return t;
            }
        } else if (b < 0x20) {
            c->fail = 1;
            return t;
        } else if (b < 0x80) {
            put1(c, b);
            c->p++;
        } else {
            size_t n = utf8_len(c->p, c->end);
            if (!n) { c->fail = 1; return t; }
            put(c, c->p, n);
            c->p += n;
        }
        if (c->fail) return t;
    }
    *dec = c->arena + start;
    *dec_len = c->len - start;
    /* the canonical text, from the decoded bytes (orjson's escapes) */
    t.off = c->len;
    put1(c, '"');
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < *dec_len && !c->fail; i++) {
        uint8_t b = c->arena[start + i];
        switch (b) {
        case '"': put(c, "\\\"", 2); break;
        case '\\': put(c, "\\\\", 2); break;
        case 0x08: put(c, "\\b", 2); break;
        case 0x09: put(c, "\\t", 2); break;
        case 0x0A: put(c, "\\n", 2); break;
        case 0x0C: put(c, "\\f", 2); break;
        case 0x0D: put(c, "\\r", 2); break;
        default:
            if (b < 0x20) {
                uint8_t u[6] = {'\\', 'u', '0', '0', (uint8_t)hexd[b >> 4], (uint8_t)hexd[b & 15]};
                put(c, u, 6);
            } else {
                put1(c, b);
            }
        }
    }
    put1(c, '"');
    t.len = c->len - t.off;
    return t;
}

static const double P10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The shortest significant digits reading back as ax (finite, 1e-4 <= ax < 1e15, not integral):
 * ax = 0.D * 10^point, D the n digits written to `digits` (no trailing zero). Returns n, or 0 when
 * not decided here. */
static int shortest_digits(double ax, char *digits, int *point) {
    char tmp[24];
    for (int k = 1; k <= 19; k++) { /* the fewest decimal places whose rounding reads back */
        double m = ax * P10[k];
        if (m >= 1e15) break; /* 16 digits or more */
        double r = nearbyint(m);
        if (r / P10[k] != ax) continue;
        uint64_t v = (uint64_t)r;
        int len = 0;
        while (v) { tmp[len++] = (char)('0' + v % 10); v /= 10; }
        int n = 0;
        for (int i = len - 1; i >= 0; i--) digits[n++] = tmp[i];
        *point = len - k;
        while (n > 0 && digits[n - 1] == '0') n--;
        return n;
    }
    uint64_t bits;
    memcpy(&bits, &ax, sizeof bits);
    if ((bits & ((1ULL << 52) - 1)) == 0) return 0; /* a power of two */
    char buf[40];
    snprintf(buf, sizeof buf, "%.15e", ax);
    if (strtod(buf, NULL) != ax) snprintf(buf, sizeof buf, "%.16e", ax);
    char *e = strchr(buf, 'e');
    if (!e || buf[1] != '.') return 0;
    int n = 0;
    digits[n++] = buf[0];
    for (char *q = buf + 2; q < e; q++) digits[n++] = *q;
    while (n > 0 && digits[n - 1] == '0') n--;
    *point = atoi(e + 1) + 1;
    return n;
}

/* 0.D * 10^point in plain notation ("123.45", "0.00012"); the point must fall inside or before D. */
static int plain_text(int neg, const char *digits, int n, int point, char *out) {
    int at = 0;
    if (neg) out[at++] = '-';
    if (point <= 0) {
        out[at++] = '0';
        out[at++] = '.';
        for (int i = 0; i < -point; i++) out[at++] = '0';
        memcpy(out + at, digits, n);
        return at + n;
    }
    if (point >= n) return 0; /* integral */
    memcpy(out + at, digits, point);
    at += point;
    out[at++] = '.';
    memcpy(out + at, digits + point, n - point);
    return at + n - point;
}

/* A double that is not integral, as orjson writes it where it writes it plainly (1e-4 <= |x| <
 * 1e15); 0 for any other x (at least 40 bytes of out). */
static int plain_double(double ax) { return ax >= 1e-4 && ax < 1e15 && floor(ax) != ax; }

static int double_text(double x, char *out) {
    double ax = fabs(x);
    if (!plain_double(ax)) return 0;
    char digits[24];
    int point;
    int n = shortest_digits(ax, digits, &point);
    return n ? plain_text(x < 0, digits, n, point, out) : 0;
}

/* A decimal token of more than MAX_NUMBER characters, without exponent (int part [digits,
 * int_end), fraction [frac, frac_end)): the text of the double nearest it when that double's
 * shortest digits are the token's own value, else 0 (the Python reading decides). */
static int long_decimal(int neg, const uint8_t *digits, const uint8_t *int_end, const uint8_t *frac,
                        const uint8_t *frac_end, char *out) {
    char tok[72];
    size_t len = (size_t)(frac_end - digits);
    if (len > 64) return 0;
    tok[0] = '-';
    memcpy(tok + 1, digits, len);
    tok[len + 1] = 0;
    double x = strtod(neg ? tok : tok + 1, NULL);
    if (!plain_double(fabs(x))) return 0;
    /* the token's significant digits and point, as shortest_digits gives them */
    char own[72];
    int n = 0, point = (int)(int_end - digits), seen = 0;
    for (const uint8_t *q = digits; q < frac_end; q++) {
        if (q == int_end) continue; /* the '.' */
        if (!seen && *q == '0') { point--; continue; }
        seen = 1;
        own[n++] = (char)*q;
    }
    while (n > 0 && own[n - 1] == '0') n--;
    char best[24];
    int best_point;
    int m = shortest_digits(fabs(x), best, &best_point);
    if (!m || m != n || best_point != point || memcmp(best, own, n) != 0) return 0;
    return plain_text(x < 0, best, m, best_point, out);
}

/* Each of n doubles (from element `start` of `values`; `validity` an Arrow bitmap or NULL) as
 * canonical.double writes it: integral ones below 2^53 as integers, the others as orjson writes
 * them (double_text). A value written neither way is left for the caller (bit i of `rest`, zeroed
 * by the caller; nothing written). Texts go to `out` (40 bytes per value will do) with int32
 * offsets, and their validity to `out_valid` (zeroed by the caller). Returns how many were left. */
int64_t double_texts(int64_t n, const double *values, const uint8_t *validity, int64_t start, uint8_t *out,
                     int32_t *out_offsets, uint8_t *out_valid, uint8_t *rest) {
    int64_t at = 0, left = 0;
    out_offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t e = start + i;
        if (validity && !((validity[e >> 3] >> (e & 7)) & 1)) {
            out_offsets[i + 1] = (int32_t)at;
            continue;
        }
        out_valid[i >> 3] |= (uint8_t)(1u << (i & 7));
        double x = values[e];
        int len = 0;
        char *dst = (char *)out + at;
        if (floor(x) == x && fabs(x) < 9007199254740992.0) {
            int64_t v = (int64_t)x;
            char tmp[24];
            int k = 0;
            uint64_t u = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
            do { tmp[k++] = (char)('0' + u % 10); u /= 10; } while (u);
            if (v < 0) dst[len++] = '-';
            while (k) dst[len++] = tmp[--k];
        } else {
            len = double_text(x, dst);
            if (!len) {
                rest[i >> 3] |= (uint8_t)(1u << (i & 7));
                left++;
            }
        }
        at += len;
        out_offsets[i + 1] = (int32_t)at;
    }
    return left;
}

static int is_digit(uint8_t b) { return b >= '0' && b <= '9'; }

static Text number(Ctx *c) {
    Text t = {0, 0, 0};
    int neg = 0;
    if (*c->p == '-') { neg = 1; c->p++; }
    const uint8_t *digits = c->p;
    if (c->p >= c->end) { c->fail = 1; return t; }
    if (*c->p == '0') c->p++;
    else if (*c->p >= '1' && *c->p <= '9') { while (c->p < c->end && is_digit(*c->p)) c->p++; }
    else { c->fail = 1; return t; }
    const uint8_t *int_end = c->p;
    const uint8_t *frac = NULL, *frac_end = NULL;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        frac = c->p;
        while (c->p < c->end && is_digit(*c->p)) c->p++;
        frac_end = c->p;
        if (frac_end == frac) { c->fail = 1; return t; }
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) { c->fail = 1; return t; } /* an exponent: Python's */
    if (!frac && c->p - digits > MAX_NUMBER && c->p - digits <= MAX_INTEGER) {
        c->long_integer = 1; /* written as it is; the caller flags the line for the exact comparison */
    } else if (frac && c->p - digits > MAX_NUMBER) {
        char text[48];
        int len = long_decimal(neg, digits, int_end, frac, frac_end, text);
        if (!len) { c->fail = 1; return t; }
        c->long_integer = 1; /* flagged as the Python reading flags a long number */
        t.off = c->len;
        put(c, text, len);
        t.len = c->len - t.off;
        return t;
    } else if (c->p - digits > MAX_NUMBER) {
        c->fail = 1;
        return t;
    }
    int zero_int = (int_end - digits == 1 && *digits == '0');
    t.off = c->len;
    if (frac) {
        while (frac_end > frac && frac_end[-1] == '0') frac_end--;
        if (frac_end == frac) frac = NULL; /* integral: its integer */
    }
    if (!frac) {
        if (neg && !zero_int) put1(c, '-');
        put(c, digits, int_end - digits);
    } else {
        if (zero_int) {
            const uint8_t *q = frac;
            while (q < frac_end && *q == '0') q++;
            if (q - frac > 3) { c->fail = 1; return t; } /* below 1e-4: orjson may write an exponent */
        }
        if (neg) put1(c, '-');
        put(c, digits, int_end - digits);
        put1(c, '.');
        put(c, frac, frac_end - frac);
    }
    t.len = c->len - t.off;
    return t;
}

static Text value(Ctx *c);

/* Whether member x goes before member y: by name (bytes), then by position. */
static int before(const Member *x, const Member *y) {
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    const uint8_t *a = x->key, *b = y->key;
    size_t i = 0;
    while (i < n && a[i] == b[i]) i++;
    if (i < n) return a[i] < b[i];
    if (x->key_len != y->key_len) return x->key_len < y->key_len;
    return x->pos < y->pos;
}

/* An object's members in order (insertion sort: objects hold a few dozen members at most, and
 * records of one producer often come nearly sorted). */
static void sort_members(Member *ms, size_t count) {
    for (size_t i = 1; i < count; i++) {
        if (!before(&ms[i], &ms[i - 1])) continue;
        Member m = ms[i];
        size_t j = i;
        while (j > 0 && before(&m, &ms[j - 1])) {
            ms[j] = ms[j - 1];
            j--;
        }
        ms[j] = m;
    }
}

static Text object(Ctx *c) {
    Text t = {0, 0, 0};
    c->p++; /* { */
    size_t base = c->members_top;
    size_t count = 0;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
    } else {
        for (;;) {
            ws(c);
            if (c->p >= c->end || *c->p != '"') { c->fail = 1; return t; }
            if (c->members_top >= c->members_cap) { c->fail = 1; return t; }
            const uint8_t *dec = NULL;
            size_t dec_len = 0;
            Text name = string(c, &dec, &dec_len);
            if (c->fail) return t;
            ws(c);
            if (c->p >= c->end || *c->p != ':') { c->fail = 1; return t; }
            c->p++;
            ws(c);
            Text v = value(c);
            if (c->fail) return t;
            Member *m = &c->members[c->members_top]; /* (a nested object used this slot and above meanwhile) */
            m->key = dec;
            m->key_len = dec_len;
            m->esc_off = name.off;
            m->esc_len = name.len;
            m->val_off = v.off;
            m->val_len = v.len;
            m->is_null = v.is_null;
            m->pos = count++;
            c->members_top++;
            ws(c);
            if (c->p >= c->end) { c->fail = 1; return t; }
            if (*c->p == ',') { c->p++; continue; }
            if (*c->p == '}') { c->p++; break; }
            c->fail = 1;
            return t;
        }
    }
    Member *ms = c->members + base;
    if (count > 1) sort_members(ms, count);
    t.off = c->len;
    put1(c, '{');
    int first = 1;
    for (size_t i = 0; i < count; i++) {
        /* of repeated names, the last one read stands (sorted by position within a name) */
        if (i + 1 < count && ms[i + 1].key_len == ms[i].key_len && !memcmp(ms[i + 1].key, ms[i].key, ms[i].key_len))
            continue; /* (rare: only then is memcmp called here) */
        if (ms[i].is_null) continue;
        if (!first) put1(c, ',');
        first = 0;
        put(c, c->arena + ms[i].esc_off, ms[i].esc_len);
        put1(c, ':');
        put(c, c->arena + ms[i].val_off, ms[i].val_len);
    }
    put1(c, '}');
    t.len = c->len - t.off;
    c->members_top = base;
    return t;
}

static Text array(Ctx *c) {
    Text t = {0, 0, 0};
    c->p++; /* [ */
    ws(c);
    /* element texts land in the arena wherever value() puts them; then they are copied once,
     * between brackets */
    size_t n = 0;
    size_t cap = 8;
    Text *items = malloc(cap * sizeof(Text));
    if (!items) { c->fail = 1; return t; }
    if (c->p < c->end && *c->p == ']') {
        c->p++;
    } else {
        for (;;) {
            ws(c);
            Text v = value(c);
            if (c->fail) { free(items); return t; }
            if (n == cap) {
                cap *= 2;
                Text *more = realloc(items, cap * sizeof(Text));
                if (!more) { free(items); c->fail = 1; return t; }
                items = more;
            }
            items[n++] = v;
            ws(c);
            if (c->p >= c->end) { free(items); c->fail = 1; return t; }
            if (*c->p == ',') { c->p++; continue; }
            if (*c->p == ']') { c->p++; break; }
            free(items);
            c->fail = 1;
            return t;
        }
    }
    t.off = c->len;
    put1(c, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) put1(c, ',');
        if (items[i].is_null) put(c, "null", 4);
        else put(c, c->arena + items[i].off, items[i].len);
    }
    put1(c, ']');
    free(items);
    t.len = c->len - t.off;
    return t;
}

static Text value(Ctx *c) {
    Text t = {0, 0, 0};
    if (c->p >= c->end) { c->fail = 1; return t; }
    uint8_t b = *c->p;
    if (b == '{' || b == '[') {
        if (++c->depth > MAX_DEPTH) { c->fail = 1; return t; }
        t = b == '{' ? object(c) : array(c);
        c->depth--;
        return t;
    }
    if (b == '"') {
        const uint8_t *dec;
        size_t dec_len;
        return string(c, &dec, &dec_len);
    }
    if (b == '-' || is_digit(b)) return number(c);
    if (c->end - c->p >= 4 && !memcmp(c->p, "true", 4)) { c->p += 4; t.off = c->len; put(c, "true", 4); t.len = 4; return t; }
    if (c->end - c->p >= 5 && !memcmp(c->p, "false", 5)) { c->p += 5; t.off = c->len; put(c, "false", 5); t.len = 5; return t; }
    if (c->end - c->p >= 4 && !memcmp(c->p, "null", 4)) { c->p += 4; t.is_null = 1; return t; }
    c->fail = 1;
    return t;
}

typedef struct {
    uint8_t *arena;
    size_t arena_cap;
    Member *members;
    size_t members_cap;
} Scratch;

/* One line [p, end): its canonical text written to out + *at (when it fits in out_cap) and 1
 * returned, with *long_number set when it holds a long number; 0 when it is left to Python; -1
 * when memory ran out. */
static int canon_one(Scratch *s, const uint8_t *p, const uint8_t *end, uint8_t *out, int64_t out_cap,
                     int64_t *at, int *long_number) {
    size_t len = end - p;
    size_t need = 3 * len + 64; /* strings are held twice (decoded, written); objects once more */
    if (need > s->arena_cap) {
        free(s->arena);
        s->arena_cap = need * 2;
        s->arena = malloc(s->arena_cap);
        if (!s->arena) return -1;
    }
    if (len / 2 + 8 > s->members_cap) {
        free(s->members);
        s->members_cap = len + 16;
        s->members = malloc(s->members_cap * sizeof(Member));
        if (!s->members) return -1;
    }
    Ctx c = {p, end, s->arena, s->arena_cap, 0, s->members, s->members_cap, 0, 0, 0, 0};
    ws(&c);
    Text t = {0, 0, 0};
    if (c.p < c.end && *c.p == '{') {
        c.depth = 1;
        t = object(&c);
        ws(&c);
        if (c.p != c.end) c.fail = 1;
    } else {
        c.fail = 1;
    }
    if (c.fail || *at + (int64_t)t.len > out_cap) return 0;
    memcpy(out + *at, s->arena + t.off, t.len);
    *at += t.len;
    *long_number = c.long_integer;
    return 1;
}

/* canon_one for line i, its bits set in `valid` and `long_numbers`. */
static int canon_bit(Scratch *s, const uint8_t *p, const uint8_t *end, uint8_t *out, int64_t out_cap, int64_t *at,
                     int64_t i, uint8_t *valid, uint8_t *long_numbers) {
    int long_number = 0;
    int done = canon_one(s, p, end, out, out_cap, at, &long_number);
    if (done > 0) {
        valid[i >> 3] |= (uint8_t)(1u << (i & 7));
        if (long_number) long_numbers[i >> 3] |= (uint8_t)(1u << (i & 7));
    }
    return done;
}

/* `n` lines of `data`, separated by '\n'. Each line's canonical text goes to `out` (from
 * offsets[i] to offsets[i + 1]; nothing when the line is left to Python) and bit i of `valid`
 * (least significant first, zeroed by the caller) says it was written; bit i of `long_integers`,
 * that it holds an integer of more than MAX_NUMBER digits or a long decimal (the comparison reads
 * such a line exactly when the row may hold a decimal). Returns the number of lines written, or
 * -1 when memory ran out (nothing can be trusted then). */
int64_t canon_lines(const uint8_t *data, int64_t data_len, int64_t n, uint8_t *out, int64_t out_cap,
                    int64_t *offsets, uint8_t *valid, uint8_t *long_integers) {
    const uint8_t *p = data, *data_end = data + data_len;
    Scratch s = {NULL, 0, NULL, 0};
    int64_t written = 0, at = 0;
    offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *nl = memchr(p, '\n', data_end - p);
        const uint8_t *line_end = nl ? nl : data_end;
        int done = canon_bit(&s, p, line_end, out, out_cap, &at, i, valid, long_integers);
        if (done < 0) { free(s.arena); free(s.members); return -1; }
        written += done;
        offsets[i + 1] = at;
        p = nl ? nl + 1 : data_end;
    }
    free(s.arena);
    free(s.members);
    return written;
}

/* A chunk of NDJSON as sim/pipeline/lines.py splits it (split_lines): lines end at '\n', a
 * trailing '\r' is not part of its line, and a line of only ' ', '\t' and '\r' is blank and
 * skipped. For each kept line k (at most max_lines): its index among the chunk's lines in
 * indices[k], its bytes [starts[k], ends[k]) of data, and its canonical text and bits as
 * canon_lines writes them. Returns the number of lines kept, -1 when memory ran out, or -2 when
 * the chunk holds more than max_lines lines. */
int64_t canon_chunk(const uint8_t *data, int64_t data_len, int64_t max_lines, uint8_t *out, int64_t out_cap,
                    int64_t *indices, int64_t *starts, int64_t *ends, int64_t *offsets, uint8_t *valid,
                    uint8_t *long_numbers) {
    const uint8_t *p = data, *data_end = data + data_len;
    Scratch s = {NULL, 0, NULL, 0};
    int64_t kept = 0, at = 0, index = 0;
    offsets[0] = 0;
    while (p <= data_end) {
        const uint8_t *nl = memchr(p, '\n', data_end - p);
        const uint8_t *line_end = nl ? nl : data_end;
        const uint8_t *end = line_end;
        if (end > p && end[-1] == '\r') end--;
        const uint8_t *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < end) {
            if (kept >= max_lines) { free(s.arena); free(s.members); return -2; }
            indices[kept] = index;
            starts[kept] = p - data;
            ends[kept] = end - data;
            if (canon_bit(&s, p, end, out, out_cap, &at, kept, valid, long_numbers) < 0) {
                free(s.arena);
                free(s.members);
                return -1;
            }
            kept++;
            offsets[kept] = at;
        }
        index++;
        if (!nl) break;
        p = nl + 1;
    }
    free(s.arena);
    free(s.members);
    return kept;
}

/* Row texts from pieces (sim/validate/rowtext.py): row i is the concatenation of the k pieces'
 * i-th values. Piece j is constant bytes (width 0: datas[j], lens[j] bytes) or an Arrow binary
 * array (width 4: int32 offsets, 8: int64) whose offsets and validity bitmap (or NULL) start at
 * element starts[j]; a null element writes nothing. With strip_comma, a row written as "{," loses
 * that comma (the first member present of an object that may have none). The rows go to `out`
 * with int32 offsets. Returns the bytes written, or -1 when they do not fit (the caller joins the
 * rows another way). */
int64_t join_rows(int64_t n, int64_t k, const int8_t *widths, const uint8_t *const *datas,
                  const void *const *offsets, const uint8_t *const *validity, const int64_t *starts,
                  const int64_t *lens, int strip_comma, uint8_t *out, int64_t out_cap, int32_t *out_offsets) {
    int64_t at = 0;
    out_offsets[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t row = at;
        for (int64_t j = 0; j < k; j++) {
            const uint8_t *src;
            int64_t len;
            if (widths[j] == 0) {
                src = datas[j];
                len = lens[j];
            } else {
                int64_t e = starts[j] + i;
                if (validity[j] && !((validity[j][e >> 3] >> (e & 7)) & 1)) continue;
                int64_t a, b;
                if (widths[j] == 4) {
                    const int32_t *o = offsets[j];
                    a = o[e];
                    b = o[e + 1];
                } else {
                    const int64_t *o = offsets[j];
                    a = o[e];
                    b = o[e + 1];
                }
                src = datas[j] + a;
                len = b - a;
            }
            if (at + len > out_cap) return -1;
            if (len <= 16) {
                for (int64_t q = 0; q < len; q++) out[at + q] = src[q];
            } else {
                memcpy(out + at, src, len);
            }
            at += len;
        }
        if (strip_comma && at - row >= 2 && out[row] == '{' && out[row + 1] == ',') {
            memmove(out + row + 1, out + row + 2, at - row - 2);
            at--;
        }
        if (at > INT32_MAX) return -1;
        out_offsets[i + 1] = (int32_t)at;
    }
    return at;
}
