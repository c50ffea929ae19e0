/*
 * One C source, two targets: links a plugin written against the WASM kit
 * (kits/c/include/polyplug_wasm.h: polyplug_plugin_methods + polyplug_plugin_call and the
 * "polyplug" imports) into a NATIVE plugin (kits/c/include/polyplug.h). It supplies natively what
 * the WASM host supplies as imports, and exports the native entry symbol.
 *
 *   gcc -shared -fPIC -Wno-attributes -Ikits/c/include -o libplugin.so plugin.c kits/c/src/polyplug_wasm_bridge.c -lpthread
 *
 * The WASM imports act on "the current call" (cancelled, error, sleep): here that is thread-local
 * state set around each native call, since native calls run concurrently on host threads.
 * A WASM guest's globals are per instance; natively they are per loaded library (see
 * docs/native-abi.md, "Instances"), so a WASM-kit plugin keeps one instance per library file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "polyplug.h"
#include "polyplug_wasm.h"

typedef struct bridge {
  const polyplug_host *host;
  uint8_t *config;
  size_t config_len;
} bridge;

/* The call this thread is running. */
static _Thread_local bridge *current;
static _Thread_local const volatile int32_t *current_cancelled;
static _Thread_local char error_code[128];
static _Thread_local char error_message[512];
static _Thread_local int error_set;
/* Calls outside `call` (from init, say) still reach the host through the last instance made. */
static bridge *last;

static bridge *self(void) { return current ? current : last; }

int32_t polyplug_host_call(const uint8_t *method, uint32_t method_len, const uint8_t *args, uint32_t args_len, pp_buf *out) {
  char name[256];
  uint32_t n = method_len < sizeof name - 1 ? method_len : sizeof name - 1;
  memcpy(name, method, n);
  name[n] = 0;
  bridge *b = self();
  uint8_t *answer = NULL;
  size_t answer_len = 0;
  int32_t status = b->host->call(b->host->ctx, name, args, args_len, &answer, &answer_len);
  /* The WASM kit frees *out with free(): copy out of the host's allocator. */
  out->ptr = malloc(answer_len ? answer_len : 1);
  if (answer_len) memcpy(out->ptr, answer, answer_len);
  out->len = (uint32_t)answer_len;
  b->host->free(answer);
  return status == POLYPLUG_OK ? 0 : 1;
}

void polyplug_log(int32_t level, const uint8_t *message, uint32_t len) {
  char *text = malloc(len + 1);
  if (!text) return;
  memcpy(text, message, len);
  text[len] = 0;
  bridge *b = self();
  b->host->log(b->host->ctx, level, text);
  free(text);
}

int32_t polyplug_config(const uint8_t *key, uint32_t key_len, pp_buf *out) {
  bridge *b = self();
  pp_slice config = {b->config, (uint32_t)b->config_len}, value = config;
  if (key_len) {
    char name[128];
    uint32_t n = key_len < sizeof name - 1 ? key_len : sizeof name - 1;
    memcpy(name, key, n);
    name[n] = 0;
    if (!pp_json_field(config, name, &value)) return 1;
  }
  return pp_ok_copy(out, value.ptr, value.len) == 0 ? 0 : 1;
}

int32_t polyplug_cancelled(void) { return current_cancelled && *current_cancelled ? 1 : 0; }

int32_t polyplug_sleep(uint32_t ms) {
  struct timespec start, now, tick = {0, 1000000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    if (polyplug_cancelled()) return 1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - start.tv_sec) * 1e3 + (now.tv_nsec - start.tv_nsec) / 1e6 >= ms) return 0;
    nanosleep(&tick, NULL);
  }
}

void polyplug_error(const uint8_t *code, uint32_t code_len, const uint8_t *message, uint32_t message_len) {
  snprintf(error_code, sizeof error_code, "%.*s", (int)code_len, (const char *)code);
  snprintf(error_message, sizeof error_message, "%.*s", (int)message_len, (const char *)message);
  error_set = 1;
}

void polyplug_abort(int32_t code) {
  (void)code;
  abort(); /* natively the same as WASM's: the carrier dies, the host reports PLUGIN_CRASHED */
}

/* Appends `text` to out as a JSON string body (quotes, backslashes and control bytes escaped). */
static size_t json_escape(char *out, const char *text) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') out[o++] = '\\', out[o++] = (char)*p;
    else if (*p < 0x20) o += (size_t)sprintf(out + o, "\\u%04x", *p);
    else out[o++] = (char)*p;
  }
  return o;
}

static int32_t init(const polyplug_host *host, const uint8_t *config, size_t config_len, void **instance) {
  bridge *b = calloc(1, sizeof *b);
  if (!b) return POLYPLUG_ERROR;
  b->host = host;
  b->config = malloc(config_len ? config_len : 1);
  if (config_len) memcpy(b->config, config, config_len);
  b->config_len = config_len;
  last = b;
  *instance = b;
  return POLYPLUG_OK;
}

static int32_t call(void *instance, const char *method, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                    const volatile int32_t *cancelled) {
  current = instance;
  current_cancelled = cancelled;
  error_set = 0;
  pp_slice m = {(const uint8_t *)method, (uint32_t)strlen(method)}, a = {in, (uint32_t)in_len};
  pp_buf result = {0, 0};
  int32_t status = polyplug_plugin_call(m, a, &result);
  current = NULL;
  current_cancelled = NULL;
  if (status == 0 && !error_set) {
    *out = result.ptr;
    *out_len = result.len;
    return POLYPLUG_OK;
  }
  /* Not freed: a failing WASM-kit call may already have freed it (the WASM host ignores it too). */
  char *text = malloc(sizeof error_code * 6 + sizeof error_message * 6 + 32);
  size_t o = (size_t)sprintf(text, "{\"code\":\"");
  o += json_escape(text + o, error_set ? error_code : "INTERNAL_ERROR");
  o += (size_t)sprintf(text + o, "\",\"message\":\"");
  o += json_escape(text + o, error_set ? error_message : "the plugin failed without an error");
  o += (size_t)sprintf(text + o, "\"}");
  *out = (uint8_t *)text;
  *out_len = o;
  return POLYPLUG_ERROR;
}

static void release(uint8_t *buffer, size_t len) {
  (void)len;
  free(buffer);
}

static void shutdown(void *instance) {
  bridge *b = instance;
  if (last == b) last = NULL;
  free(b->config);
  free(b);
}

/* The WASM kit lists methods as a JSON array; the native descriptor wants "a,b,c". */
static char method_list[4096];

static polyplug_plugin descriptor = {
    .abi_version = POLYPLUG_ABI_VERSION,
    .size = sizeof(polyplug_plugin),
    .name = "wasm-kit plugin (native build)",
    .methods = method_list,
    .init = init,
    .call = call,
    .release = release,
    .shutdown = shutdown,
};

POLYPLUG_EXPORT const polyplug_plugin *polyplug_plugin_v1(void) {
  if (!method_list[0]) {
    const char *json = polyplug_plugin_methods();
    size_t o = 0;
    for (const char *p = json; *p && o < sizeof method_list - 1; p++) {
      if (*p == '"' || *p == '[' || *p == ']' || *p == ' ' || *p == '\n') continue;
      method_list[o++] = *p;
    }
    method_list[o] = 0;
  }
  return &descriptor;
}
