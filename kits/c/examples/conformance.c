/*
 * The conformance interface (docs/conformance.md) as a C WASM plugin, plus a few methods the WASM
 * tests use (trap, spin, readFile, getenv, grow, print). Built by `npm run build:wasm` into
 * examples/wasm-c-worker/plugin.wasm and examples/wasm-c-inline/plugin.wasm.
 */
#define POLYPLUG_WASM_IMPLEMENTATION
#include "polyplug_wasm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cancelled_count = 0;

const char *polyplug_plugin_methods(void) {
  return "[\"echo\",\"add\",\"fail\",\"sleep\",\"cancelCount\",\"bytes\",\"callHost\",\"crash\","
         "\"trap\",\"spin\",\"readFile\",\"getenv\",\"grow\",\"print\",\"config\"]";
}

static int32_t arg(pp_slice args, uint32_t index, pp_slice *out) {
  if (!pp_json_item(args, index, out)) return pp_error("INVALID_PARAMS", "missing argument");
  return 0;
}

static int32_t bytes(uint32_t n, pp_buf *out) {
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint32_t b64 = (n + 2) / 3 * 4;
  char *text = malloc(b64 + 16);
  if (!text) return pp_error("PLUGIN_MEMORY_LIMIT", "out of guest memory");
  uint32_t o = (uint32_t)sprintf(text, "{\"$bytes\":\"");
  for (uint32_t i = 0; i < n; i += 3) {
    uint32_t v = (i & 255) << 16 | (i + 1 < n ? ((i + 1) & 255) << 8 : 0) | (i + 2 < n ? (i + 2) & 255 : 0);
    text[o++] = table[v >> 18 & 63];
    text[o++] = table[v >> 12 & 63];
    text[o++] = i + 1 < n ? table[v >> 6 & 63] : '=';
    text[o++] = i + 2 < n ? table[v & 63] : '=';
  }
  text[o++] = '"';
  text[o++] = '}';
  out->ptr = (uint8_t *)text;
  out->len = o;
  return 0;
}

static int32_t call_host(pp_slice args, pp_buf *out) {
  pp_slice method, host_args;
  char name[256];
  if (arg(args, 0, &method) || arg(args, 1, &host_args)) return -1;
  int n = pp_json_string(method, name, sizeof name);
  if (n < 0) return pp_error("INVALID_PARAMS", "method must be a string");
  if (polyplug_host_call((const uint8_t *)name, (uint32_t)n, host_args.ptr, host_args.len, out) == 0) return 0;
  /* Re-raise the host's error with its own code. */
  pp_slice error = {out->ptr, out->len}, code, message;
  char code_text[128] = "INTERNAL_ERROR", message_text[512] = "host call failed";
  if (pp_json_field(error, "code", &code)) pp_json_string(code, code_text, sizeof code_text);
  if (pp_json_field(error, "message", &message)) pp_json_string(message, message_text, sizeof message_text);
  free(out->ptr);
  return pp_error(code_text, message_text);
}

static int32_t read_file(pp_slice args, pp_buf *out) {
  pp_slice path_arg;
  char path[512];
  if (arg(args, 0, &path_arg) || pp_json_string(path_arg, path, sizeof path) < 0) return pp_error("INVALID_PARAMS", "path must be a string");
  FILE *f = fopen(path, "rb");
  if (!f) return pp_error("PERMISSION_DENIED", "cannot open the file (not within a granted directory?)");
  char text[4096];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  /* Returned as bytes, so no JSON escaping is needed here. */
  static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *json = malloc(n / 3 * 4 + 32);
  if (!json) return pp_error("PLUGIN_MEMORY_LIMIT", "out of guest memory");
  uint32_t o = (uint32_t)sprintf(json, "{\"$bytes\":\"");
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint8_t)text[i] << 16 | (i + 1 < n ? (uint8_t)text[i + 1] << 8 : 0) | (i + 2 < n ? (uint8_t)text[i + 2] : 0);
    json[o++] = table[v >> 18 & 63];
    json[o++] = table[v >> 12 & 63];
    json[o++] = i + 1 < n ? table[v >> 6 & 63] : '=';
    json[o++] = i + 2 < n ? table[v & 63] : '=';
  }
  json[o++] = '"';
  json[o++] = '}';
  out->ptr = (uint8_t *)json;
  out->len = o;
  return 0;
}

int32_t polyplug_plugin_call(pp_slice method, pp_slice args, pp_buf *out) {
  pp_slice a, b;
  if (pp_is(method, "echo")) return arg(args, 0, &a) ? -1 : pp_ok_copy(out, a.ptr, a.len);
  if (pp_is(method, "add")) {
    if (arg(args, 0, &a) || arg(args, 1, &b)) return -1;
    return pp_ok_number(out, pp_json_number(a) + pp_json_number(b));
  }
  if (pp_is(method, "fail")) {
    char code[128], message[200];
    if (arg(args, 0, &a) || pp_json_string(a, code, sizeof code) < 0) return pp_error("INVALID_PARAMS", "code must be a string");
    snprintf(message, sizeof message, "failed on request with code %s", code);
    return pp_error(code, message);
  }
  if (pp_is(method, "sleep")) {
    if (arg(args, 0, &a)) return -1;
    double ms = pp_json_number(a);
    if (polyplug_sleep((uint32_t)ms)) {
      cancelled_count++;
      return pp_error("RPC_CANCELLED", "sleep cancelled");
    }
    return pp_ok_number(out, ms);
  }
  if (pp_is(method, "cancelCount")) return pp_ok_number(out, cancelled_count);
  if (pp_is(method, "bytes")) return arg(args, 0, &a) ? -1 : bytes((uint32_t)pp_json_number(a), out);
  if (pp_is(method, "callHost")) return call_host(args, out);
  if (pp_is(method, "crash")) polyplug_abort(70);
  if (pp_is(method, "trap")) __builtin_trap();
  if (pp_is(method, "spin")) {
    volatile uint64_t n = 0;
    for (;;) n++;
  }
  if (pp_is(method, "readFile")) return read_file(args, out);
  if (pp_is(method, "getenv")) {
    char name[128], json[600];
    if (arg(args, 0, &a) || pp_json_string(a, name, sizeof name) < 0) return pp_error("INVALID_PARAMS", "name must be a string");
    const char *value = getenv(name);
    if (!value) return pp_ok_copy(out, (const uint8_t *)"null", 4);
    int n = snprintf(json, sizeof json, "\"%s\"", value);
    return pp_ok_copy(out, (const uint8_t *)json, (uint32_t)n);
  }
  if (pp_is(method, "grow")) {
    /* Allocates (and keeps) n MiB: how a module runs into its memory limit. */
    if (arg(args, 0, &a)) return -1;
    size_t bytes_wanted = (size_t)pp_json_number(a) << 20;
    void *block = malloc(bytes_wanted);
    if (!block) return pp_error("PLUGIN_MEMORY_LIMIT", "memory.grow refused: the plugin's memory limit is reached");
    memset(block, 1, bytes_wanted);
    static void *volatile kept[64]; /* kept, so the compiler cannot drop the allocation */
    static unsigned kept_count = 0;
    kept[kept_count++ % 64] = block;
    return pp_ok_number(out, (double)bytes_wanted);
  }
  if (pp_is(method, "print")) {
    char text[512];
    if (arg(args, 0, &a) || pp_json_string(a, text, sizeof text) < 0) return pp_error("INVALID_PARAMS", "text must be a string");
    printf("%s\n", text);
    fflush(stdout);
    fprintf(stderr, "err:%s\n", text);
    return pp_ok_copy(out, (const uint8_t *)"null", 4);
  }
  if (pp_is(method, "config")) {
    if (arg(args, 0, &a)) return -1;
    char key[128];
    int n = pp_json_string(a, key, sizeof key);
    if (n < 0) return pp_error("INVALID_PARAMS", "key must be a string");
    if (polyplug_config((const uint8_t *)key, (uint32_t)n, out) != 0) return pp_ok_copy(out, (const uint8_t *)"null", 4);
    return 0;
  }
  return pp_error("METHOD_NOT_FOUND", "no such method");
}
