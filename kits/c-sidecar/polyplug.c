/*
 * polyplug C sidecar kit: the message loop, the requests it serves (handle_request) and the plugin
 * API (see polyplug.h). JSON values and their text: polyplug_json.c; framing and the byte-stream
 * transports: polyplug_wire.c; mqtt: polyplug_mqtt.c; streams: polyplug_stream.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "polyplug.h"
#include "polyplug_stream.h"
#include "polyplug_transport.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <math.h>

#define MAX_NESTING 32

/* ------------------------------------------------------------------ channel */

/** One request being served (the stack of nested requests) or one host call awaiting its answer. */
static int is_cancel(const char *method);
/* pp_active (polyplug_stream.h) carries the request's W3C trace context (docs/protocol.md §5.0), sent on with its host calls. */
typedef pp_active active;
typedef struct { long id; pp_value *response; } pending;

static struct {
  const pp_message_transport *mt; /* the byte-stream wire (polyplug_wire.c) or mqtt (polyplug_mqtt.c) */
  size_t max_frame;
  pid_t host_pid;
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

void pp_die_(int status, const char *why) {
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
  if (kill(S.host_pid, 0) == -1 && errno == ESRCH) pp_die_(0, NULL);
}

/** Serialises and sends one message. A message over the frame limit becomes an error answer instead. */
static void send_value(const pp_value *msg) {
  size_t n;
  char *body = S.binary ? pp_attach_serialize(msg, &n) : pp_serialize(msg, &n);
  if (!body) pp_die_(1, "out of memory");
  if (n > S.max_frame) {
    free(body);
    const pp_value *id = pp_get(msg, "id");
    if (!id || !pp_get(msg, "result")) return; /* a notification or request over the limit is dropped */
    pp_value *e = pp_set(pp_object(), "code", pp_number(pp_numeric_code_("FRAME_TOO_LARGE")));
    pp_set(e, "message", pp_string("result over the frame limit"));
    pp_set(e, "data", pp_set(pp_object(), "code", pp_string("FRAME_TOO_LARGE")));
    pp_value *answer = pp_set(pp_set(pp_set(pp_object(), "jsonrpc", pp_string("2.0")), "id", pp_clone(id)), "error", e);
    body = pp_serialize(answer, &n);
    pp_free(answer);
    if (!body) pp_die_(1, "out of memory");
  }
  /* requests, responses, $/cancel and the stream messages must arrive (docs/protocol.md §2.7) */
  const pp_value *method = pp_get(msg, "method");
  int must = !method || pp_get(msg, "id") ||
             (method->type == PP_STRING && (is_cancel(method->str) || strncmp(method->str, "$/stream/", 9) == 0));
  S.mt->send(body, n, must);
  free(body);
}

static void dispatch(char *body, size_t n);

/** Waits up to `timeout_ms` (-1: forever) for a message and dispatches it. 1 = handled one, 0 = timed out. */
static int pump(long timeout_ms) {
  long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
  for (;;) {
    size_t n;
    char *body = S.mt->take(&n);
    if (body) {
      dispatch(body, n);
      free(body);
      return 1;
    }
    check_host();
    long wait = 1000;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      if (left <= 0) return 0;
      if (left < wait) wait = (long)left;
    }
    S.mt->wait(wait);
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

int pp_numeric_code_(const char *code) {
  for (size_t i = 0; i < sizeof NUMERIC / sizeof *NUMERIC; i++) if (strcmp(NUMERIC[i].code, code) == 0) return NUMERIC[i].number;
  return APPLICATION_ERROR;
}

static void send_error_data(const pp_value *id, const char *code, const char *message, const char *method, const pp_value *detail) {
  int number = pp_numeric_code_(code);
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
      if (c->type == PP_STRING && strcmp(c->str, "binary") == 0 && S.mt->carries_binary()) S.binary = 1;
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
      pp_die_(0, NULL); /* the host closed a message transport (no end of stream there) */
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

/* ------------------------------------------------------------------ start */

static const char *env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

int pp_run(const pp_plugin *plugin) {
  signal(SIGPIPE, SIG_IGN); /* a closed channel shows up as a write error, handled as end of stream */
  S.plugin = plugin;
  S.id = env("POLYPLUG_PLUGIN_ID", "c-plugin");
  S.token = env("POLYPLUG_TOKEN", "");
  S.host_pid = (pid_t)atol(env("POLYPLUG_HOST_PID", "0"));
  S.max_frame = (size_t)strtoull(env("POLYPLUG_MAX_FRAME_BYTES", "16777216"), NULL, 10);
  if (!S.max_frame) S.max_frame = 16777216;
  if (strcmp(env("POLYPLUG_ENCODING", "json"), "json") != 0) pp_die_(2, "this kit speaks only the json encoding");
  const char *transport = env("POLYPLUG_TRANSPORT", "stdio");
  if (strcmp(transport, "mqtt") == 0) {
#ifdef PP_WITH_MQTT
    S.mt = pp_mqtt_open(S.id);
#else
    pp_die_(2, "this build has no mqtt transport (compile with -DPP_WITH_MQTT polyplug_mqtt.c -lmosquitto)");
#endif
  } else if (!(S.mt = pp_wire_open(transport, S.max_frame))) {
    pp_die_(2, "unsupported POLYPLUG_TRANSPORT");
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
