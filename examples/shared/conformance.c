/* The conformance interface (docs/conformance.md) in C, on kits/c-sidecar. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "polyplug.h"

static int cancelled;
static long produced;

static pp_value *echo(pp_ctx *ctx, const pp_value *params) {
  (void)ctx;
  const pp_value *v = pp_at(params, 0);
  return v ? pp_clone(v) : pp_null();
}

static pp_value *add(pp_ctx *ctx, const pp_value *params) {
  const pp_value *a = pp_at(params, 0), *b = pp_at(params, 1);
  if (!a || !b || a->type != PP_NUMBER || b->type != PP_NUMBER) return pp_fail(ctx, "INVALID_PARAMS", "add(a, b) takes two numbers");
  return pp_number(a->number + b->number);
}

static pp_value *fail(pp_ctx *ctx, const pp_value *params) {
  const pp_value *code = pp_at(params, 0);
  const char *c = code && code->type == PP_STRING ? code->str : "E_CONFORMANCE";
  char message[256];
  snprintf(message, sizeof message, "failed on request with code %s", c);
  return pp_fail(ctx, c, message);
}

static pp_value *sleep_(pp_ctx *ctx, const pp_value *params) {
  const pp_value *ms = pp_at(params, 0);
  if (!ms || ms->type != PP_NUMBER) return pp_fail(ctx, "INVALID_PARAMS", "sleep(ms) takes a number");
  if (pp_sleep(ctx, (long)ms->number)) {
    cancelled++;
    return pp_fail(ctx, "RPC_CANCELLED", "sleep cancelled");
  }
  return pp_number(ms->number);
}

static pp_value *cancel_count(pp_ctx *ctx, const pp_value *params) {
  (void)ctx; (void)params;
  return pp_number(cancelled);
}

static pp_value *bytes(pp_ctx *ctx, const pp_value *params) {
  const pp_value *n = pp_at(params, 0);
  if (!n || n->type != PP_NUMBER || n->number < 0 || n->number > 1e8) return pp_fail(ctx, "INVALID_PARAMS", "bytes(n) takes a count");
  size_t count = (size_t)n->number;
  unsigned char *data = malloc(count ? count : 1);
  if (!data) return pp_fail(ctx, "INTERNAL_ERROR", "out of memory");
  for (size_t i = 0; i < count; i++) data[i] = (unsigned char)(i & 255);
  pp_value *v = pp_bytes(data, count);
  free(data);
  return v;
}

static pp_value *call_host(pp_ctx *ctx, const pp_value *params) {
  const pp_value *method = pp_at(params, 0), *args = pp_at(params, 1);
  if (!method || method->type != PP_STRING) return pp_fail(ctx, "INVALID_PARAMS", "callHost(method, args)");
  return pp_call(ctx, method->str, args ? pp_clone(args) : pp_array());
}

static pp_value *crash(pp_ctx *ctx, const pp_value *params) {
  (void)ctx; (void)params;
  abort();
}

/* A stream out: 0..n-1; with failAt, E_STREAM there. Stopped by its consumer, it counts as cancelled. */
static pp_value *count(pp_ctx *ctx, const pp_value *params) {
  const pp_value *n = pp_at(params, 0), *fail_at = pp_at(params, 1);
  if (!n || n->type != PP_NUMBER) return pp_fail(ctx, "INVALID_PARAMS", "count(n, failAt?) takes a number");
  pp_stream *out = pp_stream_begin(ctx);
  if (!out) return NULL;
  for (double i = 0; i < n->number; i++) {
    if (fail_at && fail_at->type == PP_NUMBER && fail_at->number == i) {
      char message[64];
      snprintf(message, sizeof message, "count failed at %.0f", i);
      return pp_fail(ctx, "E_STREAM", message);
    }
    produced++;
    if (pp_stream_send(out, pp_number(i))) {
      cancelled++;
      return NULL;
    }
  }
  return NULL;
}

static pp_value *produced_(pp_ctx *ctx, const pp_value *params) {
  (void)ctx; (void)params;
  return pp_number((double)produced);
}

/* A stream in: the sum of its numbers and the lengths of its byte chunks. */
static pp_value *sum(pp_ctx *ctx, const pp_value *params) {
  pp_stream *in = pp_stream_open(ctx, pp_at(params, 0));
  if (!in) return pp_fail(ctx, "INVALID_PARAMS", "sum(stream) takes a stream");
  double total = 0;
  pp_value *item;
  while ((item = pp_stream_next(ctx, in))) {
    total += item->type == PP_BYTES ? (double)item->len : item->type == PP_NUMBER ? item->number : 0;
    pp_free(item);
  }
  return pp_number(total); /* the kit answers with the producer's error instead, if it failed */
}

static int activate(pp_ctx *ctx, const pp_value *config) {
  (void)ctx; (void)config;
  char line[200];
  snprintf(line, sizeof line, "activated %s", pp_plugin_id());
  pp_log("debug", line);
  return 0;
}

static const pp_method methods[] = {
  {"echo", echo}, {"add", add}, {"fail", fail}, {"sleep", sleep_}, {"cancelCount", cancel_count},
  {"bytes", bytes}, {"callHost", call_host}, {"crash", crash}, {"count", count}, {"produced", produced_},
  {"sum", sum},
};

int main(void) {
  pp_plugin plugin = {methods, sizeof methods / sizeof *methods, activate, NULL};
  return pp_run(&plugin);
}
