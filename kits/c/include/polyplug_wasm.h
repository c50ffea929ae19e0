/*
 * polyplug WASM plugin kit for C (ABI version 1, normative text: docs/wasm-abi.md).
 *
 * A plugin implements two things and includes this header in exactly one file after
 * `#define POLYPLUG_WASM_IMPLEMENTATION`:
 *
 *   const char *polyplug_plugin_methods(void);         // JSON array of method names
 *   int32_t polyplug_plugin_call(pp_slice method, pp_slice args, pp_buf *out);
 *       // args: the JSON array of arguments; on success fill *out with a JSON value (malloc'd,
 *       // the kit frees it after the host copied it) and return 0; on failure return pp_error(...).
 *
 * Build: clang --target=wasm32-wasi -O2 -mexec-model=reactor -Ikits/c/include -o plugin.wasm plugin.c
 *
 * Only the `polyplug` import module and the exports below are the ABI; the helpers (pp_json_*,
 * pp_ok_*) are conveniences a native build can share, which is why they use no WASM-only types.
 */
#ifndef POLYPLUG_WASM_H
#define POLYPLUG_WASM_H

#include <stddef.h>
#include <stdint.h>

#define POLYPLUG_WASM_ABI_VERSION 1

typedef struct { const uint8_t *ptr; uint32_t len; } pp_slice;
typedef struct { uint8_t *ptr; uint32_t len; } pp_buf;

#define PP_IMPORT(name) __attribute__((import_module("polyplug"), import_name(name)))

/* ---- imports: the host as the guest sees it (module "polyplug") ---- */

/* Calls a host API method (e.g. "host/echo") with a JSON array of arguments. Blocks until the host
 * answers. Returns 0 and a JSON result in *out, or 1 and a JSON {"code","message"} error in *out.
 * *out is allocated with polyplug_alloc; release it with free(). */
PP_IMPORT("host_call") int32_t polyplug_host_call(const uint8_t *method, uint32_t method_len, const uint8_t *args, uint32_t args_len, pp_buf *out);
/* level: 0 debug, 1 info, 2 warn, 3 error. */
PP_IMPORT("log") void polyplug_log(int32_t level, const uint8_t *message, uint32_t len);
/* The plugin's config value under `key` (whole config for an empty key) as JSON; 1 when absent. */
PP_IMPORT("config") int32_t polyplug_config(const uint8_t *key, uint32_t key_len, pp_buf *out);
/* Waits up to `ms` without spinning; returns 1 at once when the current call is cancelled. */
PP_IMPORT("sleep") int32_t polyplug_sleep(uint32_t ms);
/* 1 when the caller cancelled the current call (poll it in long loops). */
PP_IMPORT("cancelled") int32_t polyplug_cancelled(void);
/* Fails the current call with a typed error; polyplug_call's result is then ignored. */
PP_IMPORT("error") void polyplug_error(const uint8_t *code, uint32_t code_len, const uint8_t *message, uint32_t message_len);
/* Gives up for good: the worker or process carrier exits (PLUGIN_CRASHED); inline, the instance is dropped. */
PP_IMPORT("abort") void polyplug_abort(int32_t code) __attribute__((noreturn));

/* ---- what the plugin implements ---- */
const char *polyplug_plugin_methods(void);
int32_t polyplug_plugin_call(pp_slice method, pp_slice args, pp_buf *out);

/* ---- helpers ---- */
int32_t pp_error(const char *code, const char *message);
int32_t pp_ok_copy(pp_buf *out, const uint8_t *json, uint32_t len);
int32_t pp_ok_number(pp_buf *out, double value);
int pp_is(pp_slice s, const char *literal);
/* The raw JSON text of element `index` of a top-level array, or of field `key` of an object. */
int pp_json_item(pp_slice array, uint32_t index, pp_slice *item);
int pp_json_field(pp_slice object, const char *key, pp_slice *value);
double pp_json_number(pp_slice value);
/* Copies a JSON string's contents (escapes other than \" and \\ are kept verbatim) into a
 * NUL-terminated buffer; returns the length or -1. */
int pp_json_string(pp_slice value, char *buf, uint32_t cap);
void pp_log(int32_t level, const char *message);

#ifdef POLYPLUG_WASM_IMPLEMENTATION
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PP_EXPORT(name) __attribute__((export_name(name)))

PP_EXPORT("polyplug_abi_version") int32_t polyplug_abi_version(void) { return POLYPLUG_WASM_ABI_VERSION; }
PP_EXPORT("polyplug_alloc") void *polyplug_alloc(uint32_t size) { return malloc(size ? size : 1); }
PP_EXPORT("polyplug_free") void polyplug_free(void *ptr, uint32_t size) { (void)size; free(ptr); }

static uint64_t pp_pack(uint8_t *ptr, uint32_t len) { return ((uint64_t)(uintptr_t)ptr << 32) | len; }

/* Method names as a JSON array; the buffer stays owned by the guest (static). */
PP_EXPORT("polyplug_describe") uint64_t polyplug_describe(void) {
  const char *m = polyplug_plugin_methods();
  return pp_pack((uint8_t *)m, (uint32_t)strlen(m));
}

/* The host wrote method and args into one buffer from polyplug_alloc; it frees it after the call.
 * The result buffer is freed by the host through polyplug_free once copied out. */
PP_EXPORT("polyplug_call") uint64_t polyplug_call(const uint8_t *method, uint32_t method_len, const uint8_t *args, uint32_t args_len) {
  pp_buf out = {0, 0};
  pp_slice m = {method, method_len}, a = {args, args_len};
  if (polyplug_plugin_call(m, a, &out) != 0) return 0;
  return pp_pack(out.ptr, out.len);
}

int32_t pp_error(const char *code, const char *message) {
  polyplug_error((const uint8_t *)code, strlen(code), (const uint8_t *)message, strlen(message));
  return -1;
}

int32_t pp_ok_copy(pp_buf *out, const uint8_t *json, uint32_t len) {
  out->ptr = malloc(len ? len : 1);
  if (!out->ptr) return pp_error("PLUGIN_MEMORY_LIMIT", "out of guest memory for the result");
  memcpy(out->ptr, json, len);
  out->len = len;
  return 0;
}

int32_t pp_ok_number(pp_buf *out, double value) {
  char text[40];
  int n = snprintf(text, sizeof text, "%.17g", value);
  return pp_ok_copy(out, (const uint8_t *)text, (uint32_t)n);
}

int pp_is(pp_slice s, const char *literal) {
  size_t n = strlen(literal);
  return s.len == n && memcmp(s.ptr, literal, n) == 0;
}

static uint32_t pp_skip_ws(pp_slice s, uint32_t i) {
  while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\n' || s.ptr[i] == '\r' || s.ptr[i] == '\t')) i++;
  return i;
}

/* Index just past the JSON value starting at i (strings, nesting; no validation). */
static uint32_t pp_skip_value(pp_slice s, uint32_t i) {
  int depth = 0;
  for (; i < s.len; i++) {
    uint8_t c = s.ptr[i];
    if (c == '"') {
      for (i++; i < s.len && s.ptr[i] != '"'; i++) if (s.ptr[i] == '\\') i++;
      if (depth == 0) return i + 1;
    } else if (c == '[' || c == '{') depth++;
    else if (c == ']' || c == '}') { if (depth == 0) return i; if (--depth == 0) return i + 1; }
    else if (depth == 0 && (c == ',' || c == ':')) return i;
  }
  return i;
}

static int pp_trimmed(pp_slice s, uint32_t start, uint32_t end, pp_slice *item) {
  while (end > start && (s.ptr[end - 1] == ' ' || s.ptr[end - 1] == '\n' || s.ptr[end - 1] == '\t' || s.ptr[end - 1] == '\r')) end--;
  item->ptr = s.ptr + start;
  item->len = end - start;
  return end > start;
}

int pp_json_item(pp_slice array, uint32_t index, pp_slice *item) {
  uint32_t i = pp_skip_ws(array, 0);
  if (i >= array.len || array.ptr[i] != '[') return 0;
  for (uint32_t n = 0;; n++) {
    i = pp_skip_ws(array, i + 1);
    if (i >= array.len || array.ptr[i] == ']') return 0;
    uint32_t end = pp_skip_value(array, i);
    if (n == index) return pp_trimmed(array, i, end, item);
    i = pp_skip_ws(array, end);
    if (i >= array.len || array.ptr[i] != ',') return 0;
  }
}

int pp_json_field(pp_slice object, const char *key, pp_slice *value) {
  uint32_t i = pp_skip_ws(object, 0);
  if (i >= object.len || object.ptr[i] != '{') return 0;
  for (;;) {
    i = pp_skip_ws(object, i + 1);
    if (i >= object.len || object.ptr[i] != '"') return 0;
    uint32_t key_end = pp_skip_value(object, i);
    pp_slice k = {object.ptr + i + 1, key_end - i - 2};
    i = pp_skip_ws(object, key_end);
    if (i >= object.len || object.ptr[i] != ':') return 0;
    i = pp_skip_ws(object, i + 1);
    uint32_t end = pp_skip_value(object, i);
    if (pp_is(k, key)) return pp_trimmed(object, i, end, value);
    i = pp_skip_ws(object, end);
    if (i >= object.len || object.ptr[i] != ',') return 0;
  }
}

double pp_json_number(pp_slice value) {
  char text[64];
  uint32_t n = value.len < sizeof text - 1 ? value.len : sizeof text - 1;
  memcpy(text, value.ptr, n);
  text[n] = 0;
  return strtod(text, NULL);
}

int pp_json_string(pp_slice value, char *buf, uint32_t cap) {
  if (value.len < 2 || value.ptr[0] != '"' || cap == 0) return -1;
  uint32_t n = 0;
  for (uint32_t i = 1; i + 1 < value.len; i++) {
    uint8_t c = value.ptr[i];
    if (c == '\\' && i + 2 < value.len && (value.ptr[i + 1] == '"' || value.ptr[i + 1] == '\\')) c = value.ptr[++i];
    if (n + 1 >= cap) return -1;
    buf[n++] = (char)c;
  }
  buf[n] = 0;
  return (int)n;
}

void pp_log(int32_t level, const char *message) { polyplug_log(level, (const uint8_t *)message, strlen(message)); }
#endif /* POLYPLUG_WASM_IMPLEMENTATION */
#endif /* POLYPLUG_WASM_H */
