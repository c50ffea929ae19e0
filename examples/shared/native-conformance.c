/*
 * The conformance interface (docs/conformance.md) as a native plugin in C, against
 * kits/c/include/polyplug.h. The same source is built into examples/native-c-inline and
 * examples/native-c-worker; the manifest alone chooses the placement.
 * Arguments arrive as a compact JSON array; this file needs only to split it, never to build a DOM.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "polyplug.h"

/* Per-instance state: the same library may serve several plugins in one process. */
typedef struct instance {
  const polyplug_host *host;
  atomic_int cancelled_sleeps;
} instance;

/* Finds the index-th element of a JSON array: [*start, *end) of `in`. Returns 0 when absent. */
static int arg(const uint8_t *in, size_t len, int index, size_t *start, size_t *end) {
  int depth = 0, current = 0, in_string = 0;
  size_t i = 0;
  while (i < len && in[i] != '[') i++;
  size_t begin = ++i;
  for (; i < len; i++) {
    char c = (char)in[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
      continue;
    }
    if (c == '"') in_string = 1;
    else if (c == '[' || c == '{') depth++;
    else if ((c == ']' || c == '}') && depth > 0) depth--;
    else if ((c == ',' && depth == 0) || (c == ']' && depth == 0)) {
      if (current == index) {
        while (begin < i && (in[begin] == ' ' || in[begin] == '\n')) begin++;
        if (begin == i) return 0; /* empty array */
        *start = begin;
        *end = i;
        return 1;
      }
      current++;
      begin = i + 1;
      if (c == ']') return 0;
    }
  }
  return 0;
}

static double number_arg(const uint8_t *in, size_t len, int index) {
  size_t s, e;
  if (!arg(in, len, index, &s, &e)) return 0;
  char buffer[64];
  size_t n = e - s < sizeof buffer - 1 ? e - s : sizeof buffer - 1;
  memcpy(buffer, in + s, n);
  buffer[n] = 0;
  return strtod(buffer, NULL);
}

static int32_t reply(const char *text, size_t len, uint8_t **out, size_t *out_len, int32_t status) {
  *out = malloc(len ? len : 1);
  memcpy(*out, text, len);
  *out_len = len;
  return status;
}

static int32_t reply_number(double value, uint8_t **out, size_t *out_len) {
  char text[64];
  int n = snprintf(text, sizeof text, "%.17g", value);
  return reply(text, (size_t)n, out, out_len, POLYPLUG_OK);
}

static int32_t error(const char *code, const char *message, uint8_t **out, size_t *out_len) {
  char text[512];
  int n = snprintf(text, sizeof text, "{\"code\":\"%s\",\"message\":\"%s\"}", code, message);
  return reply(text, (size_t)n, out, out_len, POLYPLUG_ERROR);
}

static int32_t do_fail(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
  size_t s, e;
  if (!arg(in, len, 0, &s, &e) || in[s] != '"') return error("INVALID_PARAMS", "fail(code) needs a string", out, out_len);
  /* The code is already a JSON string token: embed it as is. */
  char text[1024];
  int n = snprintf(text, sizeof text, "{\"code\":%.*s,\"message\":\"failed on request\"}", (int)(e - s), (const char *)in + s);
  return reply(text, (size_t)n, out, out_len, POLYPLUG_ERROR);
}

static int32_t do_sleep(instance *self, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, const volatile int32_t *cancelled) {
  double ms = number_arg(in, len, 0);
  struct timespec start, now, tick = {0, 1000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (*cancelled) {
      atomic_fetch_add(&self->cancelled_sleeps, 1);
      return error("RPC_CANCELLED", "sleep cancelled", out, out_len);
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    double elapsed = (now.tv_sec - start.tv_sec) * 1e3 + (now.tv_nsec - start.tv_nsec) / 1e6;
    if (elapsed >= ms) break;
    nanosleep(&tick, NULL);
  }
  return reply_number(ms, out, out_len);
}

static int32_t do_bytes(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = (size_t)number_arg(in, len, 0);
  size_t encoded = 4 * ((n + 2) / 3);
  char *text = malloc(encoded + 16);
  size_t o = (size_t)sprintf(text, "{\"$bytes\":\"");
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)(i & 255) << 16;
    if (i + 1 < n) v |= (uint32_t)((i + 1) & 255) << 8;
    if (i + 2 < n) v |= (uint32_t)((i + 2) & 255);
    text[o++] = b64[(v >> 18) & 63];
    text[o++] = b64[(v >> 12) & 63];
    text[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    text[o++] = i + 2 < n ? b64[v & 63] : '=';
  }
  text[o++] = '"';
  text[o++] = '}';
  *out = (uint8_t *)text;
  *out_len = o;
  return POLYPLUG_OK;
}

static int32_t do_call_host(instance *self, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
  const polyplug_host *host = self->host;
  size_t ms, me, as, ae;
  if (!arg(in, len, 0, &ms, &me) || in[ms] != '"') return error("INVALID_PARAMS", "callHost(method, args)", out, out_len);
  char method[256];
  size_t n = me - ms - 2 < sizeof method - 1 ? me - ms - 2 : sizeof method - 1;
  memcpy(method, in + ms + 1, n); /* method names need no JSON escapes */
  method[n] = 0;
  const uint8_t *args = (const uint8_t *)"[]";
  size_t args_len = 2;
  if (arg(in, len, 1, &as, &ae)) {
    args = in + as;
    args_len = ae - as;
  }
  uint8_t *answer = NULL;
  size_t answer_len = 0;
  int32_t status = host->call(host->ctx, method, args, args_len, &answer, &answer_len);
  /* The answer is the host's buffer: copy it into ours, then free it with the host's allocator. */
  reply((const char *)answer, answer_len, out, out_len, status);
  host->free(answer);
  return status;
}

static int32_t init(const polyplug_host *host, const uint8_t *config, size_t config_len, void **out_instance) {
  (void)config;
  (void)config_len;
  instance *self = calloc(1, sizeof *self);
  if (!self) return POLYPLUG_ERROR;
  self->host = host;
  atomic_init(&self->cancelled_sleeps, 0);
  *out_instance = self;
  host->log(host->ctx, POLYPLUG_LOG_DEBUG, "native C conformance plugin initialised");
  return POLYPLUG_OK;
}

static int32_t call(void *self_ptr, const char *method, const uint8_t *in, size_t len, uint8_t **out, size_t *out_len,
                    const volatile int32_t *cancelled) {
  instance *self = self_ptr;
  size_t s, e;
  if (!strcmp(method, "echo")) {
    if (!arg(in, len, 0, &s, &e)) return reply("null", 4, out, out_len, POLYPLUG_OK);
    return reply((const char *)in + s, e - s, out, out_len, POLYPLUG_OK);
  }
  if (!strcmp(method, "add")) return reply_number(number_arg(in, len, 0) + number_arg(in, len, 1), out, out_len);
  if (!strcmp(method, "fail")) return do_fail(in, len, out, out_len);
  if (!strcmp(method, "sleep")) return do_sleep(self, in, len, out, out_len, cancelled);
  if (!strcmp(method, "cancelCount")) return reply_number(atomic_load(&self->cancelled_sleeps), out, out_len);
  if (!strcmp(method, "bytes")) return do_bytes(in, len, out, out_len);
  if (!strcmp(method, "callHost")) return do_call_host(self, in, len, out, out_len);
  if (!strcmp(method, "crash")) {
    volatile int *nowhere = NULL;
    *nowhere = 1; /* a real segfault: only isolated placements survive it */
  }
  return error("METHOD_NOT_FOUND", "no such method", out, out_len);
}

static void release(uint8_t *buffer, size_t len) {
  (void)len;
  free(buffer);
}

static void shutdown(void *self) { free(self); }

static const polyplug_plugin descriptor = {
    .abi_version = POLYPLUG_ABI_VERSION,
    .size = sizeof(polyplug_plugin),
    .name = "conformance-c",
    .methods = "echo,add,fail,sleep,cancelCount,bytes,callHost,crash",
    .init = init,
    .call = call,
    .release = release,
    .shutdown = shutdown,
};

POLYPLUG_EXPORT const polyplug_plugin *polyplug_plugin_v1(void) { return &descriptor; }
