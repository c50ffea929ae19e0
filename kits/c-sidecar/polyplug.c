/* polyplug C sidecar kit: JSON values, framing, transports and the message loop (see polyplug.h). */
#define _POSIX_C_SOURCE 200809L
#include "polyplug.h"
#include "polyplug_stream.h"
#include "polyplug_transport.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

/* 64 levels of payload inside the envelope object and its params array, as the Node peer counts (docs/protocol.md §10) */
#define MAX_DEPTH 66
#define MAX_NESTING 32

/* ------------------------------------------------------------------ values */

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

static int b64val(int c) {
  static signed char table[256];
  if (!table['B']) { /* built once: a table beats strchr on megabyte payloads */
    memset(table, -1, sizeof table);
    for (int i = 0; i < 64; i++) table[(unsigned char)B64[i]] = (signed char)i;
  }
  return table[c & 255];
}

/** Decodes standard base64 (padding optional) into a PP_BYTES value; NULL if malformed. */
static pp_value *b64decode(const char *s, size_t n) {
  while (n && s[n - 1] == '=') n--;
  if (n % 4 == 1) return NULL;
  pp_value *v = make(PP_BYTES);
  if (!v || !(v->str = malloc(n / 4 * 3 + 3))) { free(v); return NULL; }
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; i++) {
    int d = b64val((unsigned char)s[i]);
    if (d < 0) { pp_free(v); return NULL; }
    acc = (acc << 6) | (unsigned)d;
    bits += 6;
    if (bits >= 8) { bits -= 8; v->str[v->len++] = (char)((acc >> bits) & 0xff); }
  }
  v->str[v->len] = 0;
  return v;
}

/* ------------------------------------------------------------------ writer */

typedef struct { char *data; size_t len, cap; int oom; } buf;

static void put(buf *b, const char *s, size_t n) {
  if (b->oom) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) { b->oom = 1; return; }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = 0;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_string(buf *b, const char *s, size_t n) {
  put(b, "\"", 1);
  size_t start = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(b, s + start, i - start);
    char esc[8];
    switch (c) {
      case '"': puts_(b, "\\\""); break;
      case '\\': puts_(b, "\\\\"); break;
      case '\n': puts_(b, "\\n"); break;
      case '\r': puts_(b, "\\r"); break;
      case '\t': puts_(b, "\\t"); break;
      default: snprintf(esc, sizeof esc, "\\u%04x", c); puts_(b, esc);
    }
    start = i + 1;
  }
  put(b, s + start, n - start);
  put(b, "\"", 1);
}

static void put_value(buf *b, const pp_value *v) {
  char num[40];
  if (!v) { puts_(b, "null"); return; }
  switch (v->type) {
    case PP_NULL: puts_(b, "null"); break;
    case PP_BOOL: puts_(b, v->boolean ? "true" : "false"); break;
    case PP_NUMBER:
      if (!isfinite(v->number)) puts_(b, "null");
      else if (v->number == floor(v->number) && fabs(v->number) < 9007199254740992.0) snprintf(num, sizeof num, "%.0f", v->number), puts_(b, num);
      else snprintf(num, sizeof num, "%.17g", v->number), puts_(b, num);
      break;
    case PP_STRING: put_string(b, v->str, v->len); break;
    case PP_BYTES: {
      puts_(b, "{\"$bytes\":\"");
      const unsigned char *p = (const unsigned char *)v->str;
      char q[4];
      for (size_t i = 0; i < v->len; i += 3) {
        unsigned x = (unsigned)p[i] << 16 | (i + 1 < v->len ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < v->len ? p[i + 2] : 0);
        q[0] = B64[x >> 18 & 63];
        q[1] = B64[x >> 12 & 63];
        q[2] = i + 1 < v->len ? B64[x >> 6 & 63] : '=';
        q[3] = i + 2 < v->len ? B64[x & 63] : '=';
        put(b, q, 4);
      }
      puts_(b, "\"}");
      break;
    }
    case PP_ARRAY:
      put(b, "[", 1);
      for (size_t i = 0; i < v->count; i++) { if (i) put(b, ",", 1); put_value(b, v->items[i]); }
      put(b, "]", 1);
      break;
    case PP_OBJECT:
      put(b, "{", 1);
      for (size_t i = 0; i < v->count; i++) {
        if (i) put(b, ",", 1);
        put_string(b, v->keys[i], strlen(v->keys[i]));
        put(b, ":", 1);
        put_value(b, v->items[i]);
      }
      put(b, "}", 1);
      break;
  }
}

char *pp_serialize(const pp_value *v, size_t *n) {
  buf b = {0};
  put_value(&b, v);
  if (b.oom || !b.data) { free(b.data); return NULL; }
  if (n) *n = b.len;
  return b.data;
}

/* ------------------------------------------------------------------ parser */

typedef struct { const char *s; size_t n, i; int err; } parser;

static void ws(parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r')) p->i++;
}
static int lit(parser *p, const char *w) {
  size_t k = strlen(w);
  if (p->n - p->i < k || memcmp(p->s + p->i, w, k) != 0) return 0;
  p->i += k;
  return 1;
}
static int hex4(parser *p, unsigned *out) {
  if (p->n - p->i < 4) return -1;
  unsigned x = 0;
  for (int k = 0; k < 4; k++) {
    char c = p->s[p->i++];
    x <<= 4;
    if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = x;
  return 0;
}
static void utf8(buf *b, unsigned cp) {
  char o[4];
  if (cp < 0x80) { o[0] = (char)cp; put(b, o, 1); }
  else if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); put(b, o, 2); }
  else if (cp < 0x10000) { o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 63)); o[2] = (char)(0x80 | (cp & 63)); put(b, o, 3); }
  else { o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 63)); o[2] = (char)(0x80 | (cp >> 6 & 63)); o[3] = (char)(0x80 | (cp & 63)); put(b, o, 4); }
}
/** Parses a string (p->i on the opening quote) into a malloc'd buffer. */
static char *pstring(parser *p, size_t *len) {
  buf b = {0};
  put(&b, "", 0);
  p->i++;
  while (p->i < p->n) {
    size_t run = p->i; /* copy a run of plain characters in one go */
    while (run < p->n && p->s[run] != '"' && p->s[run] != '\\' && (unsigned char)p->s[run] >= 0x20) run++;
    put(&b, p->s + p->i, run - p->i);
    p->i = run;
    if (p->i >= p->n) break;
    unsigned char c = (unsigned char)p->s[p->i++];
    if (c == '"') {
      if (b.oom) break;
      *len = b.len;
      return b.data;
    }
    if (c < 0x20) break;
    if (c != '\\') { put(&b, (const char *)&c, 1); continue; }
    if (p->i >= p->n) break;
    char e = p->s[p->i++];
    unsigned cp, lo;
    switch (e) {
      case '"': case '\\': case '/': put(&b, &e, 1); break;
      case 'b': put(&b, "\b", 1); break;
      case 'f': put(&b, "\f", 1); break;
      case 'n': put(&b, "\n", 1); break;
      case 'r': put(&b, "\r", 1); break;
      case 't': put(&b, "\t", 1); break;
      case 'u':
        if (hex4(p, &cp)) goto fail;
        if (cp >= 0xd800 && cp < 0xdc00 && p->n - p->i >= 6 && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
          size_t save = p->i;
          p->i += 2;
          if (hex4(p, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          else p->i = save;
        }
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd; /* a lone surrogate has no UTF-8 form */
        utf8(&b, cp);
        break;
      default: goto fail;
    }
  }
fail:
  free(b.data);
  p->err = b.oom ? PP_ENOMEM : PP_ESYNTAX;
  return NULL;
}

static pp_value *pvalue(parser *p, int depth);

static pp_value *pnumber(parser *p) {
  size_t start = p->i;
  if (p->i < p->n && p->s[p->i] == '-') p->i++;
  if (p->i < p->n && p->s[p->i] == '0') p->i++;
  else if (p->i < p->n && p->s[p->i] >= '1' && p->s[p->i] <= '9') while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
  else return NULL;
  if (p->i < p->n && p->s[p->i] == '.') {
    p->i++;
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return NULL;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
  }
  if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
    p->i++;
    if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
    if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return NULL;
    while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') p->i++;
  }
  char tmp[64];
  size_t k = p->i - start;
  if (k >= sizeof tmp) {
    char *big = malloc(k + 1);
    if (!big) return NULL;
    memcpy(big, p->s + start, k);
    big[k] = 0;
    pp_value *v = pp_number(strtod(big, NULL));
    free(big);
    return v;
  }
  memcpy(tmp, p->s + start, k);
  tmp[k] = 0;
  return pp_number(strtod(tmp, NULL));
}

static pp_value *pcontainer(parser *p, int depth, int object) {
  pp_value *c = object ? pp_object() : pp_array();
  if (!c) { p->err = PP_ENOMEM; return NULL; }
  p->i++;
  ws(p);
  char close = object ? '}' : ']';
  if (p->i < p->n && p->s[p->i] == close) { p->i++; return c; }
  for (;;) {
    char *key = NULL;
    size_t klen = 0;
    ws(p);
    if (object) {
      if (p->i >= p->n || p->s[p->i] != '"' || !(key = pstring(p, &klen))) goto fail;
      ws(p);
      if (p->i >= p->n || p->s[p->i] != ':') { free(key); goto fail; }
      p->i++;
    }
    pp_value *item = pvalue(p, depth + 1);
    if (!item || grow(c)) { free(key); pp_free(item); goto fail; }
    if (object) c->keys[c->count] = key;
    c->items[c->count++] = item;
    ws(p);
    if (p->i < p->n && p->s[p->i] == ',') { p->i++; continue; }
    if (p->i < p->n && p->s[p->i] == close) { p->i++; break; }
    goto fail;
  }
  /* {"$bytes": "<base64>"} and nothing else is a byte string (docs/protocol.md §4). */
  if (object && c->count == 1 && strcmp(c->keys[0], "$bytes") == 0 && c->items[0]->type == PP_STRING) {
    pp_value *bytes = b64decode(c->items[0]->str, c->items[0]->len);
    if (bytes) { pp_free(c); return bytes; }
  }
  return c;
fail:
  if (!p->err) p->err = PP_ESYNTAX;
  pp_free(c);
  return NULL;
}

static pp_value *pvalue(parser *p, int depth) {
  if (depth > MAX_DEPTH) { p->err = PP_EDEPTH; return NULL; }
  ws(p);
  if (p->i >= p->n) { p->err = PP_ESYNTAX; return NULL; }
  char c = p->s[p->i];
  pp_value *v = NULL;
  if (c == '{' || c == '[') return pcontainer(p, depth, c == '{');
  if (c == '"') {
    size_t len;
    char *s = pstring(p, &len);
    if (!s) return NULL;
    if (!(v = make(PP_STRING))) { free(s); p->err = PP_ENOMEM; return NULL; }
    v->str = s;
    v->len = len;
    return v;
  }
  if (lit(p, "null")) v = pp_null();
  else if (lit(p, "true")) v = pp_bool(1);
  else if (lit(p, "false")) v = pp_bool(0);
  else v = pnumber(p);
  if (!v && !p->err) p->err = PP_ESYNTAX;
  return v;
}

int pp_parse(const char *text, size_t n, pp_value **out) {
  parser p = {text, n, 0, 0};
  pp_value *v = pvalue(&p, 1);
  if (v) {
    ws(&p);
    if (p.i != n) { pp_free(v); v = NULL; p.err = PP_ESYNTAX; }
  }
  *out = v;
  return v ? PP_OK : (p.err ? p.err : PP_ESYNTAX);
}

/* ------------------------------------------------------------------ channel */

typedef enum { F_LENGTH, F_CONTENT_LENGTH, F_NDJSON } framing;

/** One request being served (the stack of nested requests) or one host call awaiting its answer. */
static int is_cancel(const char *method);
/* pp_active (polyplug_stream.h) carries the request's W3C trace context (docs/protocol.md §5.0), sent on with its host calls. */
typedef pp_active active;
typedef struct { long id; pp_value *response; } pending;

static struct {
  int in, out;
  const pp_message_transport *mt; /* a message transport (mqtt) instead of in/out byte streams */
  framing framing;
  size_t max_frame;
  buf rx;
  size_t rx_start;
  pid_t host_pid;
  struct timespec last_pid_check;
  const pp_plugin *plugin;
  const char *id, *token;
  active reqs[MAX_NESTING];
  int nreq;
  pending calls[MAX_NESTING];
  int ncalls;
  long next_id;
  int binary; /* $/hello agreed on bytes as attachments (docs/protocol.md §4.1) */
} S;

/* bytes as attachments (docs/protocol.md §4.1), at the end of this file */
static int pp_attach_split(const char *body, size_t n, const char **json, size_t *json_n, const unsigned char **area, size_t *area_n);
static pp_value *pp_attach_resolve(const pp_value *v, const unsigned char *area, size_t area_n);
static char *pp_attach_serialize(const pp_value *msg, size_t *n);

static void die(int status, const char *why) {
  if (why) fprintf(stderr, "polyplug: %s\n", why);
  exit(status);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** Exits when POLYPLUG_HOST_PID is gone (docs/protocol.md §9); checked at most once a second. */
static void check_host(void) {
  static long long last;
  long long t = now_ms();
  if (S.host_pid <= 0 || t - last < 1000) return;
  last = t;
  if (kill(S.host_pid, 0) == -1 && errno == ESRCH) die(0, NULL);
}

static void write_all(const char *p, size_t n) {
  while (n) {
    ssize_t k = write(S.out, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) die(0, NULL); /* the host is gone: the channel is closed */
    p += k;
    n -= (size_t)k;
  }
}

/** Frames and writes one message. A message over the frame limit becomes an error answer instead. */
static void send_value(const pp_value *msg) {
  size_t n;
  char *body = S.binary ? pp_attach_serialize(msg, &n) : pp_serialize(msg, &n);
  if (!body) die(1, "out of memory");
  if (n > S.max_frame) {
    free(body);
    const pp_value *id = pp_get(msg, "id");
    if (!id || !pp_get(msg, "result")) return; /* a notification or request over the limit is dropped */
    char *idtext = pp_serialize(id, NULL);
    char small[256];
    snprintf(small, sizeof small, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-31003,\"message\":\"result over the frame limit\",\"data\":{\"code\":\"FRAME_TOO_LARGE\"}}}", idtext ? idtext : "null");
    free(idtext);
    body = malloc(strlen(small) + 1);
    if (!body) die(1, "out of memory");
    strcpy(body, small);
    n = strlen(body);
  }
  if (S.mt) {
    /* requests, responses, $/cancel and the stream messages must arrive (docs/protocol.md §2.7) */
    const pp_value *method = pp_get(msg, "method");
    int must = !method || pp_get(msg, "id") ||
               (method->type == PP_STRING && (is_cancel(method->str) || strncmp(method->str, "$/stream/", 9) == 0));
    S.mt->send(body, n, must);
    free(body);
    return;
  }
  char head[64];
  size_t h = 0;
  if (S.framing == F_LENGTH) {
    head[0] = (char)(n >> 24); head[1] = (char)(n >> 16); head[2] = (char)(n >> 8); head[3] = (char)n;
    h = 4;
  } else if (S.framing == F_CONTENT_LENGTH) {
    h = (size_t)snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
  }
  if (S.framing == F_NDJSON) {
    body = realloc(body, n + 1);
    if (!body) die(1, "out of memory");
    body[n++] = '\n';
  }
  /* one write per frame: header and body never part, and big frames go out in as few syscalls as possible */
  char *all = malloc(h + n);
  if (!all) die(1, "out of memory");
  memcpy(all, head, h);
  memcpy(all + h, body, n);
  write_all(all, h + n);
  free(all);
  free(body);
}

/** Extracts one frame body from the receive buffer: 1 = got one, 0 = need more bytes. Framing errors close the channel. */
static int take_frame(char **body, size_t *n) {
  char *p = S.rx.data + S.rx_start;
  size_t avail = S.rx.len - S.rx_start;
  if (S.framing == F_LENGTH) {
    if (avail < 4) return 0;
    const unsigned char *u = (const unsigned char *)p;
    size_t len = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    if (len > S.max_frame) die(1, "FRAME_TOO_LARGE: incoming frame over the limit");
    if (avail < 4 + len) return 0;
    *body = p + 4;
    *n = len;
    S.rx_start += 4 + len;
    return 1;
  }
  if (S.framing == F_NDJSON) {
    for (;;) {
      char *nl = memchr(p, '\n', avail);
      if (!nl) {
        if (avail > S.max_frame) die(1, "FRAME_TOO_LARGE: incoming line over the limit");
        return 0;
      }
      size_t len = (size_t)(nl - p);
      S.rx_start += len + 1;
      if (len && p[len - 1] == '\r') len--;
      if (len == 0) { p = nl + 1; avail = S.rx.len - S.rx_start; continue; } /* blank lines are skipped */
      *body = p;
      *n = len;
      return 1;
    }
  }
  /* content-length */
  size_t end = 0;
  for (size_t i = 0; i + 3 < avail && i < 8192; i++) if (memcmp(p + i, "\r\n\r\n", 4) == 0) { end = i; break; }
  if (!end) {
    if (avail >= 8192 + 4) die(1, "FRAME_INVALID: header block over 8 KiB");
    if (avail >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) die(1, "FRAME_INVALID: missing Content-Length");
    return 0;
  }
  long long len = -1;
  for (size_t i = 0; i < end;) {
    size_t j = i;
    while (j < end && !(p[j] == '\r' && p[j + 1] == '\n')) j++;
    if (j - i > 15 && strncasecmp(p + i, "content-length:", 15) == 0) {
      char num[32];
      size_t k = j - i - 15;
      if (k >= sizeof num) die(1, "FRAME_INVALID: bad Content-Length");
      memcpy(num, p + i + 15, k);
      num[k] = 0;
      char *stop;
      len = strtoll(num, &stop, 10);
      while (*stop == ' ') stop++;
      if (*stop || len < 0) die(1, "FRAME_INVALID: bad Content-Length");
    }
    i = j + 2;
  }
  if (len < 0) die(1, "FRAME_INVALID: missing Content-Length");
  if ((size_t)len > S.max_frame) die(1, "FRAME_TOO_LARGE: incoming frame over the limit");
  if (avail < end + 4 + (size_t)len) return 0;
  *body = p + end + 4;
  *n = (size_t)len;
  S.rx_start += end + 4 + (size_t)len;
  return 1;
}

/** Waits up to `timeout_ms` (-1: forever) for a frame; returns its parsed message via dispatch. 1 = handled one, 0 = timed out. */
static int pump(long timeout_ms);
static void dispatch(char *body, size_t n);

static int pump(long timeout_ms) {
  long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    char *body;
    size_t n;
    if (S.mt && (body = S.mt->take(&n))) {
      dispatch(body, n);
      free(body);
      return 1;
    }
    if (!S.mt && take_frame(&body, &n)) {
      /* copy out: dispatch may nest and read more into the buffer */
      char *copy = malloc(n + 1);
      if (!copy) die(1, "out of memory");
      memcpy(copy, body, n);
      copy[n] = 0;
      if (S.rx_start == S.rx.len) S.rx.len = S.rx_start = 0;
      dispatch(copy, n);
      free(copy);
      return 1;
    }
    if (S.rx_start > 0) { /* compact */
      memmove(S.rx.data, S.rx.data + S.rx_start, S.rx.len - S.rx_start);
      S.rx.len -= S.rx_start;
      S.rx_start = 0;
    }
    check_host();
    long wait = 1000;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      if (left <= 0) return 0;
      if (left < wait) wait = (long)left;
    }
    if (S.mt) {
      S.mt->wait(wait);
      continue;
    }
    struct pollfd pfd = {S.in, POLLIN, 0};
    int r = poll(&pfd, 1, (int)wait);
    if (r < 0 && errno != EINTR) die(1, "poll failed");
    if (r <= 0) continue;
    char chunk[65536];
    ssize_t k = read(S.in, chunk, sizeof chunk);
    if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (k <= 0) {
      if (S.rx.len > S.rx_start) die(1, "FRAME_INVALID: stream ended inside a frame");
      die(0, NULL); /* end of stream: the host closed the channel */
    }
    put(&S.rx, chunk, (size_t)k);
    if (S.rx.oom) die(1, "out of memory");
  }
}

/* ------------------------------------------------------------------ messages */

/* JSON-RPC numeric codes: schema/error-codes.json, which test/error-codes.test.ts checks this
 * table against (docs/protocol.md 5.1). Any other string code is sent as APPLICATION_ERROR. */
static const struct { const char *code; int number; } NUMERIC[] = {
  {"PARSE_ERROR", -32700}, {"INVALID_REQUEST", -32600}, {"METHOD_NOT_FOUND", -32601},
  {"INVALID_PARAMS", -32602}, {"INTERNAL_ERROR", -32603},
  {"SERVER_NOT_INITIALIZED", -32002}, {"UNKNOWN_ERROR_CODE", -32001},
  {"RPC_CANCELLED", -32800}, {"CONTENT_MODIFIED", -32801}, {"SERVER_CANCELLED", -32802}, {"REQUEST_FAILED", -32803},
  {"RPC_TIMEOUT", -31001}, {"PERMISSION_DENIED", -31002}, {"FRAME_TOO_LARGE", -31003},
  {"MESSAGE_TOO_DEEP", -31004}, {"DUPLICATE_REQUEST_ID", -31005},
};
#define APPLICATION_ERROR (-31000)

/* polyplug's $/cancel and LSP's $/cancelRequest: the same notification, {"id": ID}. */
static int is_cancel(const char *method) {
  return strcmp(method, "$/cancel") == 0 || strcmp(method, "$/cancelRequest") == 0;
}

/* data as polyplug writes it: a string code, and no keys but code, plugin, method, data. */
static int polyplug_data(const pp_value *data) {
  if (!data || data->type != PP_OBJECT || !pp_get(data, "code") || pp_get(data, "code")->type != PP_STRING) return 0;
  for (size_t i = 0; i < data->count; i++) {
    const char *k = data->keys[i];
    if (strcmp(k, "code") && strcmp(k, "plugin") && strcmp(k, "method") && strcmp(k, "data")) return 0;
  }
  return 1;
}

static pp_value *envelope(const pp_value *id) {
  pp_value *m = pp_set(pp_object(), "jsonrpc", pp_string("2.0"));
  return pp_set(m, "id", id ? pp_clone(id) : pp_null());
}

static void send_error_data(const pp_value *id, const char *code, const char *message, const char *method, const pp_value *detail) {
  int number = APPLICATION_ERROR;
  for (size_t i = 0; i < sizeof NUMERIC / sizeof *NUMERIC; i++) if (strcmp(NUMERIC[i].code, code) == 0) number = NUMERIC[i].number;
  pp_value *data = pp_set(pp_object(), "code", pp_string(code));
  if (S.id) pp_set(data, "plugin", pp_string(S.id));
  if (method) pp_set(data, "method", pp_string(method));
  if (detail) pp_set(data, "data", pp_clone(detail));
  pp_value *e = pp_set(pp_object(), "code", pp_number(number));
  pp_set(e, "message", pp_string(message));
  pp_set(e, "data", data);
  pp_value *m = pp_set(envelope(id), "error", e);
  send_value(m);
  pp_free(m);
}

static void send_error(const pp_value *id, const char *code, const char *message, const char *method) {
  send_error_data(id, code, message, method, NULL);
}

static void send_result(const pp_value *id, pp_value *result) {
  pp_value *m = pp_set(envelope(id), "result", result ? result : pp_null());
  send_value(m);
  pp_free(m);
}

static int same_id(const pp_value *a, const pp_value *b) {
  if (!a || !b || a->type != b->type) return 0;
  if (a->type == PP_NUMBER) return a->number == b->number;
  return a->type == PP_STRING && a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static void handle_request(const pp_value *id, const char *method, const pp_value *params, const pp_value *traceparent) {
  for (int i = 0; i < S.nreq; i++) {
    if (same_id(S.reqs[i].id, id)) { send_error(id, "DUPLICATE_REQUEST_ID", "request id already in flight", method); return; }
  }
  if (strcmp(method, "$/hello") == 0) {
    const pp_value *versions = pp_get(params, "protocol");
    int ok = 0;
    for (size_t i = 0; versions && i < versions->count; i++) if (versions->items[i]->type == PP_NUMBER && versions->items[i]->number == 1) ok = 1;
    if (!ok) { send_error(id, "PROTOCOL_MISMATCH", "this plugin speaks protocol 1", method); return; }
    pp_value *names = pp_array();
    for (size_t i = 0; i < S.plugin->method_count; i++) pp_push(names, pp_string(S.plugin->methods[i].name));
    pp_value *r = pp_set(pp_object(), "protocol", pp_number(1));
    pp_set(r, "id", pp_string(S.id));
    pp_set(r, "methods", names);
    pp_set(r, "encodings", pp_push(pp_array(), pp_string("json")));
    pp_value *capabilities = pp_push(pp_array(), pp_string("streams"));
    /* bytes as attachments: on a byte stream whose framing carries any byte */
    const pp_value *offered = pp_get(params, "capabilities");
    for (size_t i = 0; offered && offered->type == PP_ARRAY && i < offered->count; i++) {
      const pp_value *c = offered->items[i];
      if (c->type == PP_STRING && strcmp(c->str, "binary") == 0 && !S.mt && S.framing != F_NDJSON) S.binary = 1;
    }
    if (S.binary) pp_push(capabilities, pp_string("binary"));
    pp_set(r, "capabilities", capabilities);
    pp_set(r, "token", pp_string(S.token));
    send_result(id, r);
    return;
  }
  if (strcmp(method, "$/ping") == 0) { send_result(id, pp_object()); return; }
  if (strcmp(method, "$/shutdown") == 0) {
    if (S.plugin->deactivate) S.plugin->deactivate();
    send_result(id, pp_object());
    exit(0);
  }
  if (S.nreq >= MAX_NESTING) { send_error(id, "INTERNAL_ERROR", "too many nested requests in this single-threaded plugin", method); return; }
  pp_handler fn = NULL;
  int activate = strcmp(method, "$/activate") == 0;
  for (size_t i = 0; !activate && i < S.plugin->method_count; i++) if (strcmp(S.plugin->methods[i].name, method) == 0) fn = S.plugin->methods[i].fn;
  if (!fn && !activate) { send_error(id, "METHOD_NOT_FOUND", "no such method", method); return; }
  pp_value *own_id = pp_clone(id);
  S.reqs[S.nreq].id = own_id;
  S.reqs[S.nreq].cancelled = 0;
  S.reqs[S.nreq].traceparent[0] = '\0';
  if (traceparent && traceparent->type == PP_STRING && traceparent->len < sizeof S.reqs[S.nreq].traceparent) {
    memcpy(S.reqs[S.nreq].traceparent, traceparent->str, traceparent->len);
    S.reqs[S.nreq].traceparent[traceparent->len] = '\0';
  }
  pp_ctx ctx = {&S.reqs[S.nreq], NULL, NULL, method, NULL, {NULL}, 0, NULL};
  S.nreq++;
  pp_value *result = NULL;
  if (activate) {
    if (S.plugin->activate && S.plugin->activate(&ctx, pp_get(params, "config")) && !ctx.error_code) pp_fail(&ctx, "ACTIVATION_FAILED", "activate failed");
    if (!ctx.error_code) result = pp_object();
  } else {
    /* positional arguments: an array as it is, named params (an object) as one argument, none as [] */
    pp_value *args = params && params->type == PP_ARRAY ? NULL : pp_array();
    if (args && params) pp_push(args, pp_clone(params));
    result = fn(&ctx, args ? args : params);
    pp_free(args);
  }
  S.nreq--;
  if (ctx.produced) { /* answered with a stream: end it instead of answering again */
    pp_free(result);
    pp_stream_release_(&ctx, params);
  } else if ((pp_stream_release_(&ctx, params), ctx.error_code)) {
    pp_free(result);
    send_error_data(own_id, ctx.error_code, ctx.error_message ? ctx.error_message : ctx.error_code, method, ctx.error_data);
  } else {
    send_result(own_id, result);
  }
  free(ctx.error_code);
  free(ctx.error_message);
  pp_free(ctx.error_data);
  pp_free(own_id);
}

static void dispatch(char *body, size_t n) {
  pp_value *msg;
  const char *json;
  size_t json_n, area_n;
  const unsigned char *area;
  int attached = pp_attach_split(body, n, &json, &json_n, &area, &area_n);
  if (attached < 0) { send_error(NULL, "PARSE_ERROR", "malformed message with attachments", NULL); return; }
  int r = pp_parse(json, json_n, &msg);
  if (r == PP_EDEPTH) { send_error(NULL, "MESSAGE_TOO_DEEP", "message nested deeper than 64 levels", NULL); return; }
  if (r != PP_OK) { send_error(NULL, "PARSE_ERROR", "the frame is not valid JSON", NULL); return; }
  if (attached) {
    pp_value *resolved = pp_attach_resolve(msg, area, area_n);
    pp_free(msg);
    if (!resolved) { send_error(NULL, "PARSE_ERROR", "an attachment reference lies outside the attachment area", NULL); return; }
    msg = resolved;
  }
  const pp_value *id = pp_get(msg, "id");
  const pp_value *method = pp_get(msg, "method");
  const pp_value *version = pp_get(msg, "jsonrpc");
  int id_ok = !id || id->type == PP_NUMBER || id->type == PP_STRING || id->type == PP_NULL;
  if (msg->type != PP_OBJECT || !version || version->type != PP_STRING || strcmp(version->str, "2.0") != 0 || !id_ok) {
    if (id && id_ok && id->type != PP_NULL) send_error(id, "INVALID_REQUEST", "not a JSON-RPC 2.0 message", NULL);
    else if (!id || !(pp_get(msg, "result") || pp_get(msg, "error"))) send_error(NULL, "INVALID_REQUEST", "not a JSON-RPC 2.0 message", NULL);
  } else if (method && method->type == PP_STRING) {
    const pp_value *params = pp_get(msg, "params");
    if (params && params->type != PP_ARRAY && params->type != PP_OBJECT) {
      if (id) send_error(id, "INVALID_REQUEST", "params must be an array or an object", method->str);
    } else if (id && id->type != PP_NULL) {
      handle_request(id, method->str, params, pp_get(msg, "traceparent"));
    } else if (strncmp(method->str, "$/stream/", 9) == 0) {
      pp_stream_receive_(method->str, params);
    } else if (is_cancel(method->str)) {
      const pp_value *target = pp_get(params, "id");
      for (int i = 0; i < S.nreq; i++) if (same_id(S.reqs[i].id, target)) S.reqs[i].cancelled = 1;
    } else if (strcmp(method->str, "$/gone") == 0) {
      die(0, NULL); /* the host closed a message transport (no end of stream there) */
    } /* other notifications ($/progress, $/log, unknown) are ignored */
  } else if (id && (pp_get(msg, "result") || pp_get(msg, "error"))) {
    for (int i = 0; i < S.ncalls; i++) {
      if (id->type == PP_NUMBER && id->number == (double)S.calls[i].id && !S.calls[i].response) {
        S.calls[i].response = msg;
        return; /* ownership moves to the waiting pp_call */
      }
    } /* an answer nobody waits for (a cancelled call) is ignored */
  } else if (id && id->type != PP_NULL) {
    send_error(id, "INVALID_REQUEST", "not a JSON-RPC 2.0 message", NULL);
  } else {
    send_error(NULL, "INVALID_REQUEST", "not a JSON-RPC 2.0 message", NULL);
  }
  pp_free(msg);
}

void pp_transport_lost(const char *why) {
  for (int i = 0; i < S.ncalls; i++) {
    if (S.calls[i].response) continue;
    pp_value *data = pp_set(pp_object(), "code", pp_string("TRANSPORT_UNAVAILABLE"));
    pp_value *e = pp_set(pp_set(pp_object(), "code", pp_number(APPLICATION_ERROR)), "message", pp_string(why));
    pp_value *m = pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "id", pp_number((double)S.calls[i].id));
    S.calls[i].response = pp_set(m, "error", pp_set(e, "data", data));
  }
}

/* ------------------------------------------------------------------ plugin API */

pp_value *pp_fail(pp_ctx *ctx, const char *code, const char *message) {
  free(ctx->error_code);
  free(ctx->error_message);
  ctx->error_code = strdup(code ? code : "INTERNAL_ERROR");
  ctx->error_message = strdup(message ? message : "");
  pp_free(ctx->error_data);
  ctx->error_data = NULL;
  return NULL;
}

pp_value *pp_fail_data(pp_ctx *ctx, const char *code, const char *message, pp_value *data) {
  pp_fail(ctx, code, message);
  ctx->error_data = data;
  return NULL;
}

int pp_cancelled(pp_ctx *ctx) { return ctx->req->cancelled; }

int pp_sleep(pp_ctx *ctx, long ms) {
  long long deadline = now_ms() + ms;
  for (;;) {
    if (ctx->req->cancelled) return 1;
    long long left = deadline - now_ms();
    if (left <= 0) return 0;
    pump((long)left);
  }
}

pp_value *pp_call(pp_ctx *ctx, const char *method, pp_value *params) {
  if (S.ncalls >= MAX_NESTING) { pp_free(params); return pp_fail(ctx, "INTERNAL_ERROR", "too many nested host calls"); }
  long id = ++S.next_id;
  pp_value *m = pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "id", pp_number((double)id));
  pp_set(m, "method", pp_string(method));
  if (params) pp_set(m, "params", params);
  if (ctx->req->traceparent[0]) pp_set(m, "traceparent", pp_string(ctx->req->traceparent));
  int slot = S.ncalls++;
  S.calls[slot].id = id;
  S.calls[slot].response = NULL;
  send_value(m);
  pp_free(m);
  while (!S.calls[slot].response) pump(-1);
  pp_value *response = S.calls[slot].response;
  S.ncalls--;
  pp_value *result = NULL;
  const pp_value *error = pp_get(response, "error");
  if (error) {
    const pp_value *data = pp_get(error, "data");
    const pp_value *code = polyplug_data(data) ? pp_get(data, "code") : NULL;
    const pp_value *message = pp_get(error, "message");
    const char *c = code && code->type == PP_STRING ? code->str : NULL;
    if (!c) { /* derive the string code from the numeric one (docs/protocol.md §5.1) */
      const pp_value *num = pp_get(error, "code");
      c = "INTERNAL_ERROR";
      for (size_t i = 0; num && i < sizeof NUMERIC / sizeof *NUMERIC; i++) if (num->number == NUMERIC[i].number) c = NUMERIC[i].code;
    }
    const pp_value *detail = polyplug_data(data) ? pp_get(data, "data") : data;
    pp_fail_data(ctx, c, message && message->type == PP_STRING ? message->str : c, detail ? pp_clone(detail) : NULL);
  } else {
    result = pp_clone(pp_get(response, "result"));
    if (!result) result = pp_null();
  }
  pp_free(response);
  return result;
}

void pp_progress(pp_ctx *ctx, pp_value *value) {
  pp_value *params = pp_set(pp_object(), "id", pp_clone(ctx->req->id));
  pp_set(params, "value", value ? value : pp_null());
  pp_value *m = pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "method", pp_string("$/progress"));
  send_value(pp_set(m, "params", params));
  pp_free(m);
}

void pp_log(const char *level, const char *message) {
  pp_value *params = pp_set(pp_object(), "level", pp_string(level));
  pp_set(params, "message", pp_string(message));
  pp_value *m = pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "method", pp_string("$/log"));
  send_value(pp_set(m, "params", params));
  pp_free(m);
}

const char *pp_plugin_id(void) { return S.id; }

void pp_notify_(const char *method, pp_value *params) {
  pp_value *m = pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "method", pp_string(method));
  send_value(pp_set(m, "params", params));
  pp_free(m);
}

void pp_answer_(const pp_value *id, pp_value *result) { send_result(id, result); }

int pp_pump_(long timeout_ms) { return pump(timeout_ms); }

/* ------------------------------------------------------------------ transports */

static const char *env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static int connect_unix(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) die(2, "POLYPLUG_SOCKET path too long");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die(2, "cannot connect to POLYPLUG_SOCKET");
  return fd;
}

static int connect_tcp(const char *address) {
  char host[256];
  const char *colon = strrchr(address, ':');
  if (!colon || (size_t)(colon - address) >= sizeof host) die(2, "POLYPLUG_ADDRESS is not host:port");
  size_t hl = (size_t)(colon - address);
  const char *h = address;
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { h++; hl -= 2; } /* [v6]:port */
  memcpy(host, h, hl);
  host[hl] = 0;
  struct addrinfo hints, *res, *ai;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0) die(2, "POLYPLUG_ADDRESS does not resolve");
  int fd = -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) die(2, "cannot connect to POLYPLUG_ADDRESS");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int pp_run(const pp_plugin *plugin) {
  signal(SIGPIPE, SIG_IGN); /* a closed channel shows up as a write error, handled as end of stream */
  S.plugin = plugin;
  S.id = env("POLYPLUG_PLUGIN_ID", "c-plugin");
  S.token = env("POLYPLUG_TOKEN", "");
  S.host_pid = (pid_t)atol(env("POLYPLUG_HOST_PID", "0"));
  S.max_frame = (size_t)strtoull(env("POLYPLUG_MAX_FRAME_BYTES", "16777216"), NULL, 10);
  if (!S.max_frame) S.max_frame = 16777216;
  const char *framing = env("POLYPLUG_FRAMING", "length");
  if (strcmp(framing, "length") == 0) S.framing = F_LENGTH;
  else if (strcmp(framing, "content-length") == 0) S.framing = F_CONTENT_LENGTH;
  else if (strcmp(framing, "ndjson") == 0) S.framing = F_NDJSON;
  else die(2, "unsupported POLYPLUG_FRAMING");
  if (strcmp(env("POLYPLUG_ENCODING", "json"), "json") != 0) die(2, "this kit speaks only the json encoding");
  const char *transport = env("POLYPLUG_TRANSPORT", "stdio");
  if (strcmp(transport, "stdio") == 0) {
    /* keep the real stdout for the channel; stray printf output goes to stderr (the host log) */
    fflush(stdout);
    S.in = 0;
    S.out = dup(1);
    if (S.out < 0 || dup2(2, 1) < 0) die(2, "cannot set up stdio");
  } else if (strcmp(transport, "fifo") == 0) {
    const char *out = getenv("POLYPLUG_FIFO_OUT"), *in = getenv("POLYPLUG_FIFO_IN");
    if (!out || !in) die(2, "POLYPLUG_FIFO_IN/OUT missing");
    S.out = open(out, O_WRONLY); /* OUT first: the host already reads it (docs/protocol.md §2.2) */
    S.in = S.out < 0 ? -1 : open(in, O_RDONLY);
    if (S.in < 0) die(2, "cannot open the FIFOs");
  } else if (strcmp(transport, "unix") == 0) {
    S.in = S.out = connect_unix(env("POLYPLUG_SOCKET", ""));
  } else if (strcmp(transport, "tcp") == 0) {
    S.in = S.out = connect_tcp(env("POLYPLUG_ADDRESS", ""));
  } else if (strcmp(transport, "mqtt") == 0) {
#ifdef PP_WITH_MQTT
    S.mt = pp_mqtt_open(S.id);
#else
    die(2, "this build has no mqtt transport (compile with -DPP_WITH_MQTT polyplug_mqtt.c -lmosquitto)");
#endif
  } else {
    die(2, "unsupported POLYPLUG_TRANSPORT");
  }
  for (;;) pump(-1);
}

/* ------------------------------------------------------------------ bytes as attachments
 * docs/protocol.md §4.1: once $/hello agreed on "binary", a message holding bytes is
 *   0x00 | J (u32 big-endian) | J bytes of JSON | attachment area
 * with every byte string {"$bin":[offset,length]} in the JSON. Built on the public value API. */

static int pp_attach_split(const char *body, size_t n, const char **json, size_t *json_n, const unsigned char **area, size_t *area_n) {
  *json = body;
  *json_n = n;
  *area = NULL;
  *area_n = 0;
  if (n == 0 || body[0] != 0x00) return 0;
  if (n < 5) return -1;
  const unsigned char *u = (const unsigned char *)body;
  size_t j = (size_t)u[1] << 24 | (size_t)u[2] << 16 | (size_t)u[3] << 8 | (size_t)u[4];
  if (j > n - 5) return -1;
  *json = body + 5;
  *json_n = j;
  *area = u + 5 + j;
  *area_n = n - 5 - j;
  return 1;
}

static int is_ref(const pp_value *v) {
  return v && v->type == PP_OBJECT && v->count == 1 && strcmp(v->keys[0], "$bin") == 0;
}

static int index_of(const pp_value *v, double *out) {
  if (!v || v->type != PP_NUMBER || v->number < 0 || v->number != floor(v->number) || v->number > 9007199254740992.0) return 0;
  *out = v->number;
  return 1;
}

static pp_value *pp_attach_resolve(const pp_value *v, const unsigned char *area, size_t area_n) {
  if (!v) return NULL;
  if (is_ref(v)) {
    const pp_value *ref = v->items[0];
    double off, len;
    if (!ref || ref->type != PP_ARRAY || ref->count != 2 || !index_of(ref->items[0], &off) || !index_of(ref->items[1], &len)) return NULL;
    if (off + len > (double)area_n) return NULL;
    return pp_bytes(area + (size_t)off, (size_t)len);
  }
  if (v->type != PP_ARRAY && v->type != PP_OBJECT) return pp_clone(v);
  pp_value *c = v->type == PP_ARRAY ? pp_array() : pp_object();
  for (size_t i = 0; c && i < v->count; i++) {
    pp_value *item = pp_attach_resolve(v->items[i], area, area_n);
    if (!item) { pp_free(c); return NULL; }
    if (v->type == PP_ARRAY) pp_push(c, item);
    else pp_set(c, v->keys[i], item);
  }
  return c;
}

typedef struct { const pp_value **items; size_t count, cap, bytes; int oom; } parts;

/* A copy of `v` whose byte strings are {"$bin":[offset,length]}, their values listed in `p`. */
static pp_value *refs(const pp_value *v, parts *p) {
  if (!v) return pp_null();
  if (v->type == PP_BYTES) {
    if (p->count == p->cap) {
      size_t cap = p->cap ? p->cap * 2 : 8;
      const pp_value **items = realloc(p->items, cap * sizeof *items);
      if (!items) { p->oom = 1; return NULL; }
      p->items = items;
      p->cap = cap;
    }
    p->items[p->count++] = v;
    pp_value *ref = pp_push(pp_push(pp_array(), pp_number((double)p->bytes)), pp_number((double)v->len));
    p->bytes += v->len;
    return pp_set(pp_object(), "$bin", ref);
  }
  if (v->type != PP_ARRAY && v->type != PP_OBJECT) return pp_clone(v);
  pp_value *c = v->type == PP_ARRAY ? pp_array() : pp_object();
  for (size_t i = 0; c && i < v->count; i++) {
    pp_value *item = refs(v->items[i], p);
    if (v->type == PP_ARRAY) pp_push(c, item);
    else pp_set(c, v->keys[i], item);
  }
  return c;
}

static char *pp_attach_serialize(const pp_value *msg, size_t *n) {
  parts p = {0};
  pp_value *shadow = refs(msg, &p);
  if (!shadow || p.oom) { pp_free(shadow); free(p.items); return NULL; }
  if (p.count == 0) { pp_free(shadow); free(p.items); return pp_serialize(msg, n); }
  size_t j;
  char *json = pp_serialize(shadow, &j);
  pp_free(shadow);
  char *body = json ? malloc(5 + j + p.bytes) : NULL;
  if (!body) { free(json); free(p.items); return NULL; }
  body[0] = 0x00;
  body[1] = (char)(j >> 24); body[2] = (char)(j >> 16); body[3] = (char)(j >> 8); body[4] = (char)j;
  memcpy(body + 5, json, j);
  size_t at = 5 + j;
  for (size_t i = 0; i < p.count; i++) {
    memcpy(body + at, p.items[i]->str, p.items[i]->len);
    at += p.items[i]->len;
  }
  free(json);
  free(p.items);
  *n = at;
  return body;
}
