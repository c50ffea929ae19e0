/* The conformance interface (docs/conformance.md) in C, on kits/c-sidecar. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "polyplug.h"

static int cancelled;

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

static int activate(pp_ctx *ctx, const pp_value *config) {
  (void)ctx; (void)config;
  char line[200];
  snprintf(line, sizeof line, "activated %s", pp_plugin_id());
  pp_log("debug", line);
  return 0;
}

static const pp_method methods[] = {
  {"echo", echo}, {"add", add}, {"fail", fail}, {"sleep", sleep_}, {"cancelCount", cancel_count},
  {"bytes", bytes}, {"callHost", call_host}, {"crash", crash},
};

int main(void) {
  pp_plugin plugin = {methods, sizeof methods / sizeof *methods, activate, NULL};
  return pp_run(&plugin);
}
