/* A minimal MessagePack reader and writer: just what the conformance plugin needs. */
#ifndef MP_H
#define MP_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const uint8_t *p; size_t n; } span;
typedef struct { uint8_t *p; size_t n, cap; } buf;

static void put(buf *b, const void *data, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    b->p = realloc(b->p, cap);
    if (!b->p) abort();
    b->cap = cap;
  }
  memcpy(b->p + b->n, data, n);
  b->n += n;
}
static void put_be(buf *b, uint64_t v, int bytes) {
  uint8_t t[8];
  for (int i = 0; i < bytes; i++) t[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
  put(b, t, (size_t)bytes);
}
static void put_tag(buf *b, uint8_t tag) { put(b, &tag, 1); }
static void w_map(buf *b, uint32_t n) { if (n < 16) put_tag(b, 0x80 | n); else { put_tag(b, 0xde); put_be(b, n, 2); } }
static void w_arr(buf *b, uint32_t n) { if (n < 16) put_tag(b, 0x90 | n); else { put_tag(b, 0xdc); put_be(b, n, 2); } }
static void w_strn(buf *b, const char *s, size_t n) {
  if (n < 32) put_tag(b, 0xa0 | (uint8_t)n);
  else if (n < 256) { put_tag(b, 0xd9); put_be(b, n, 1); }
  else if (n < 65536) { put_tag(b, 0xda); put_be(b, n, 2); }
  else { put_tag(b, 0xdb); put_be(b, n, 4); }
  put(b, s, n);
}
static void w_str(buf *b, const char *s) { w_strn(b, s, strlen(s)); }
/* Smallest encoding: MessagePack decoders (msgpackr) turn 64-bit formats into BigInt. */
static void w_int(buf *b, int64_t v) {
  if (v >= 0 && v < 128) put_tag(b, (uint8_t)v);
  else if (v < 0 && v >= -32) put_tag(b, (uint8_t)(int8_t)v);
  else if (v >= INT32_MIN && v <= INT32_MAX) { put_tag(b, 0xd2); put_be(b, (uint64_t)(uint32_t)(int32_t)v, 4); }
  else { put_tag(b, 0xcb); double d = (double)v; uint64_t u; memcpy(&u, &d, 8); put_be(b, u, 8); }
}
static void w_double(buf *b, double d) { uint64_t u; memcpy(&u, &d, 8); put_tag(b, 0xcb); put_be(b, u, 8); }
static void w_bin_header(buf *b, uint32_t n) { put_tag(b, 0xc6); put_be(b, n, 4); }

static uint64_t be(const uint8_t *p, int bytes) { uint64_t v = 0; for (int i = 0; i < bytes; i++) v = (v << 8) | p[i]; return v; }

/* Size of the value at p, or 0 when it runs past end or is malformed. Depth-limited. */
static size_t mp_size(const uint8_t *p, const uint8_t *end, int depth) {
  if (p >= end || depth > 64) return 0;
  uint8_t t = *p;
  size_t avail = (size_t)(end - p), head = 1, body = 0;
  uint64_t items = 0;
  if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) return 1;
  if ((t & 0xf0) == 0x80) { items = 2u * (t & 0x0f); }
  else if ((t & 0xf0) == 0x90) { items = t & 0x0f; }
  else if ((t & 0xe0) == 0xa0) { body = t & 0x1f; }
  else switch (t) {
    case 0xcc: case 0xd0: head = 2; break;
    case 0xcd: case 0xd1: head = 3; break;
    case 0xce: case 0xd2: case 0xca: head = 5; break;
    case 0xcf: case 0xd3: case 0xcb: head = 9; break;
    case 0xd4: head = 3; break; case 0xd5: head = 4; break; case 0xd6: head = 6; break;
    case 0xd7: head = 10; break; case 0xd8: head = 18; break;
    case 0xc4: case 0xd9: head = 2; if (avail < 2) return 0; body = p[1]; break;
    case 0xc5: case 0xda: head = 3; if (avail < 3) return 0; body = be(p + 1, 2); break;
    case 0xc6: case 0xdb: head = 5; if (avail < 5) return 0; body = be(p + 1, 4); break;
    case 0xc7: head = 3; if (avail < 3) return 0; body = p[1]; break;
    case 0xc8: head = 4; if (avail < 4) return 0; body = be(p + 1, 2); break;
    case 0xc9: head = 6; if (avail < 6) return 0; body = be(p + 1, 4); break;
    case 0xdc: head = 3; if (avail < 3) return 0; items = be(p + 1, 2); break;
    case 0xdd: head = 5; if (avail < 5) return 0; items = be(p + 1, 4); break;
    case 0xde: head = 3; if (avail < 3) return 0; items = 2 * be(p + 1, 2); break;
    case 0xdf: head = 5; if (avail < 5) return 0; items = 2 * be(p + 1, 4); break;
    default: return 0;
  }
  if (head + body > avail) return 0;
  size_t at = head + body;
  for (uint64_t i = 0; i < items; i++) {
    size_t s = mp_size(p + at, end, depth + 1);
    if (!s) return 0;
    at += s;
  }
  return at;
}

/* Reads an array or map header; returns the element count (pairs for maps) and moves *p past it. */
static int mp_container(const uint8_t **p, const uint8_t *end, int map, uint32_t *n) {
  if (*p >= end) return 0;
  uint8_t t = **p;
  if (map ? (t & 0xf0) == 0x80 : (t & 0xf0) == 0x90) { *n = t & 0x0f; *p += 1; return 1; }
  uint8_t t16 = map ? 0xde : 0xdc, t32 = map ? 0xdf : 0xdd;
  if (t == t16 && end - *p >= 3) { *n = (uint32_t)be(*p + 1, 2); *p += 3; return 1; }
  if (t == t32 && end - *p >= 5) { *n = (uint32_t)be(*p + 1, 4); *p += 5; return 1; }
  return 0;
}

static int mp_str(span v, const char **s, size_t *n) {
  if (!v.n) return 0;
  uint8_t t = v.p[0];
  size_t head;
  if ((t & 0xe0) == 0xa0) { head = 1; *n = t & 0x1f; }
  else if (t == 0xd9 && v.n >= 2) { head = 2; *n = v.p[1]; }
  else if (t == 0xda && v.n >= 3) { head = 3; *n = be(v.p + 1, 2); }
  else if (t == 0xdb && v.n >= 5) { head = 5; *n = be(v.p + 1, 4); }
  else return 0;
  if (head + *n > v.n) return 0;
  *s = (const char *)v.p + head;
  return 1;
}

static int mp_eq(span v, const char *text) {
  const char *s; size_t n;
  return mp_str(v, &s, &n) && n == strlen(text) && memcmp(s, text, n) == 0;
}

/* Reads a number; *is_int tells whether it was an integer format. */
static int mp_num(span v, int *is_int, int64_t *i, double *d) {
  if (!v.n) return 0;
  uint8_t t = v.p[0];
  *is_int = 1;
  if (t <= 0x7f) *i = t;
  else if (t >= 0xe0) *i = (int8_t)t;
  else if (t == 0xcc && v.n >= 2) *i = v.p[1];
  else if (t == 0xcd && v.n >= 3) *i = (int64_t)be(v.p + 1, 2);
  else if (t == 0xce && v.n >= 5) *i = (int64_t)be(v.p + 1, 4);
  else if (t == 0xcf && v.n >= 9) *i = (int64_t)be(v.p + 1, 8);
  else if (t == 0xd0 && v.n >= 2) *i = (int8_t)v.p[1];
  else if (t == 0xd1 && v.n >= 3) *i = (int16_t)be(v.p + 1, 2);
  else if (t == 0xd2 && v.n >= 5) *i = (int32_t)be(v.p + 1, 4);
  else if (t == 0xd3 && v.n >= 9) *i = (int64_t)be(v.p + 1, 8);
  else if (t == 0xca && v.n >= 5) { uint32_t u = (uint32_t)be(v.p + 1, 4); float f; memcpy(&f, &u, 4); *d = f; *is_int = 0; }
  else if (t == 0xcb && v.n >= 9) { uint64_t u = be(v.p + 1, 8); memcpy(d, &u, 8); *is_int = 0; }
  else return 0;
  if (*is_int) *d = (double)*i;
  return 1;
}
#endif
