/*
 * polyplug C sidecar kit: JSON values (polyplug.h) and their text, parsed and printed by jansson
 * (Debian's libjansson-dev). Bytes travel as {"$bytes": base64} (docs/protocol.md §4).
 * jansson rather than cJSON: cJSON's strings end at the first NUL, and a protocol string may hold
 * "\u0000"; jansson keeps each string's length (JSON_ALLOW_NUL).
 */
#define _POSIX_C_SOURCE 200809L
#include "polyplug.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 64 levels of payload inside the envelope object and its params array, as the Node peer counts (docs/protocol.md §10) */
#define MAX_DEPTH 66


static pp_value *make(pp_type t) {
  pp_value *v = calloc(1, sizeof *v);
  if (v) v->type = t;
  return v;
}
pp_value *pp_null(void) { return make(PP_NULL); }
pp_value *pp_bool(int b) { pp_value *v = make(PP_BOOL); if (v) v->boolean = !!b; return v; }
pp_value *pp_number(double n) { pp_value *v = make(PP_NUMBER); if (v) v->number = n; return v; }
pp_value *pp_string_n(const char *s, size_t n) {
  pp_value *v = make(PP_STRING);
  if (!v) return NULL;
  v->str = malloc(n + 1);
  if (!v->str) { free(v); return NULL; }
  memcpy(v->str, s, n);
  v->str[n] = 0;
  v->len = n;
  return v;
}
pp_value *pp_string(const char *s) { return pp_string_n(s, strlen(s)); }
pp_value *pp_bytes(const unsigned char *data, size_t n) {
  pp_value *v = pp_string_n((const char *)data, n);
  if (v) v->type = PP_BYTES;
  return v;
}
pp_value *pp_array(void) { return make(PP_ARRAY); }
pp_value *pp_object(void) { return make(PP_OBJECT); }

static int grow(pp_value *c) {
  if (c->count < c->cap) return 0;
  size_t cap = c->cap ? c->cap * 2 : 4;
  pp_value **items = realloc(c->items, cap * sizeof *items);
  if (!items) return -1;
  c->items = items;
  if (c->type == PP_OBJECT) {
    char **keys = realloc(c->keys, cap * sizeof *keys);
    if (!keys) return -1;
    c->keys = keys;
  }
  c->cap = cap;
  return 0;
}
pp_value *pp_push(pp_value *a, pp_value *item) {
  if (!a || !item || a->type != PP_ARRAY || grow(a)) { pp_free(item); return a; }
  a->items[a->count++] = item;
  return a;
}
pp_value *pp_set(pp_value *o, const char *key, pp_value *item) {
  if (!o || !item || o->type != PP_OBJECT || grow(o)) { pp_free(item); return o; }
  char *k = malloc(strlen(key) + 1);
  if (!k) { pp_free(item); return o; }
  strcpy(k, key);
  o->keys[o->count] = k;
  o->items[o->count++] = item;
  return o;
}
const pp_value *pp_get(const pp_value *o, const char *key) {
  if (!o || o->type != PP_OBJECT) return NULL;
  for (size_t i = 0; i < o->count; i++) if (strcmp(o->keys[i], key) == 0) return o->items[i];
  return NULL;
}
const pp_value *pp_at(const pp_value *a, size_t i) {
  return a && a->type == PP_ARRAY && i < a->count ? a->items[i] : NULL;
}
void pp_free(pp_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->count; i++) {
    pp_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->str);
  free(v);
}
pp_value *pp_clone(const pp_value *v) {
  if (!v) return NULL;
  pp_value *c;
  switch (v->type) {
    case PP_NULL: return pp_null();
    case PP_BOOL: return pp_bool(v->boolean);
    case PP_NUMBER: return pp_number(v->number);
    case PP_STRING: return pp_string_n(v->str, v->len);
    case PP_BYTES: return pp_bytes((const unsigned char *)v->str, v->len);
    case PP_ARRAY:
      c = pp_array();
      for (size_t i = 0; c && i < v->count; i++) pp_push(c, pp_clone(v->items[i]));
      return c;
    default:
      c = pp_object();
      for (size_t i = 0; c && i < v->count; i++) pp_set(c, v->keys[i], pp_clone(v->items[i]));
      return c;
  }
}

/* ------------------------------------------------------------------ base64 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes standard base64 (padding optional) into a PP_BYTES value; NULL if malformed. */
static pp_value *b64decode(const char *s, size_t n) {
  static signed char table[256];
  if (!table['B']) { /* built once: a table beats strchr on megabyte payloads */
    memset(table, -1, sizeof table);
    for (int i = 0; i < 64; i++) table[(unsigned char)B64[i]] = (signed char)i;
  }
  while (n && s[n - 1] == '=') n--;
  if (n % 4 == 1) return NULL;
  pp_value *v = make(PP_BYTES);
  if (!v || !(v->str = malloc(n / 4 * 3 + 3))) { free(v); return NULL; }
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int d = table[(unsigned char)s[i]];
    if (d < 0) { pp_free(v); return NULL; }
    acc = (acc << 6) | (unsigned)d;
    bits += 6;
    if (bits >= 8) { bits -= 8; v->str[v->len++] = (char)((acc >> bits) & 0xff); }
  }
  v->str[v->len] = 0;
  return v;
}

/** {"$bytes": base64} for `n` bytes. */
static json_t *b64encode(const unsigned char *p, size_t n) {
  size_t len = (n + 2) / 3 * 4;
  char *q = malloc(len + 1);
  if (!q) return NULL;
  for (size_t i = 0, o = 0; i < n; i += 3, o += 4) {
    unsigned x = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    q[o] = B64[x >> 18 & 63];
    q[o + 1] = B64[x >> 12 & 63];
    q[o + 2] = i + 1 < n ? B64[x >> 6 & 63] : '=';
    q[o + 3] = i + 2 < n ? B64[x & 63] : '=';
  }
  json_t *text = json_stringn_nocheck(q, len);
  free(q);
  return text ? json_pack("{so}", "$bytes", text) : NULL;
}

/* ------------------------------------------------------------------ jansson ⇄ pp_value */

/** The value of a parsed jansson tree, or NULL with `*err` set (PP_EDEPTH, PP_ENOMEM). */
static pp_value *from_json(json_t *j, int depth, int *err) {
  if (depth > MAX_DEPTH) { *err = PP_EDEPTH; return NULL; }
  pp_value *v = NULL;
  switch (json_typeof(j)) {
    case JSON_NULL: v = pp_null(); break;
    case JSON_TRUE: v = pp_bool(1); break;
    case JSON_FALSE: v = pp_bool(0); break;
    case JSON_INTEGER: v = pp_number((double)json_integer_value(j)); break;
    case JSON_REAL: v = pp_number(json_real_value(j)); break;
    case JSON_STRING: v = pp_string_n(json_string_value(j), json_string_length(j)); break;
    case JSON_ARRAY: {
      size_t i;
      json_t *item;
      if (!(v = pp_array())) break;
      json_array_foreach(j, i, item) {
        pp_value *c = from_json(item, depth + 1, err);
        if (!c) { pp_free(v); return NULL; }
        pp_push(v, c);
      }
      break;
    }
    case JSON_OBJECT: {
      /* {"$bytes": "<base64>"} and nothing else is a byte string (docs/protocol.md §4). */
      json_t *b = json_object_size(j) == 1 ? json_object_get(j, "$bytes") : NULL;
      if (b && json_is_string(b) && (v = b64decode(json_string_value(b), json_string_length(b)))) break;
      const char *key;
      json_t *item;
      if (!(v = pp_object())) break;
      json_object_foreach(j, key, item) {
        pp_value *c = from_json(item, depth + 1, err);
        if (!c) { pp_free(v); return NULL; }
        pp_set(v, key, c);
      }
      break;
    }
  }
  if (!v && !*err) *err = PP_ENOMEM;
  return v;
}

/** A jansson tree for `v` (NULL when out of memory). Integral numbers print without a fraction, as JavaScript prints them. */
static json_t *to_json(const pp_value *v) {
  if (!v) return json_null();
  json_t *j;
  switch (v->type) {
    case PP_NULL: return json_null();
    case PP_BOOL: return json_boolean(v->boolean);
    case PP_NUMBER:
      if (!isfinite(v->number)) return json_null();
      if (v->number == floor(v->number) && fabs(v->number) < 9007199254740992.0) return json_integer((json_int_t)v->number);
      return json_real(v->number);
    case PP_STRING: /* a string that is not UTF-8 goes out as U+FFFD (polyplug.h) */
      return (j = json_stringn(v->str, v->len)) ? j : json_string("\xef\xbf\xbd");
    case PP_BYTES: return b64encode((const unsigned char *)v->str, v->len);
    case PP_ARRAY:
      j = json_array();
      for (size_t i = 0; j && i < v->count; i++) {
        if (json_array_append_new(j, to_json(v->items[i]))) { json_decref(j); return NULL; }
      }
      return j;
    default:
      j = json_object();
      for (size_t i = 0; j && i < v->count; i++) {
        if (json_object_set_new(j, v->keys[i], to_json(v->items[i]))) { json_decref(j); return NULL; }
      }
      return j;
  }
}

int pp_parse(const char *text, size_t n, pp_value **out) {
  json_error_t error;
  *out = NULL;
  json_t *j = json_loadb(text, n, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, &error);
  if (!j) return json_error_code(&error) == json_error_stack_overflow ? PP_EDEPTH : json_error_code(&error) == json_error_out_of_memory ? PP_ENOMEM : PP_ESYNTAX;
  int err = PP_OK;
  *out = from_json(j, 1, &err);
  json_decref(j);
  return err;
}

char *pp_serialize(const pp_value *v, size_t *n) {
  json_t *j = to_json(v);
  if (!j) return NULL;
  char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  if (text && n) *n = strlen(text);
  return text;
}
