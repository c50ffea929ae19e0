/*
 * polyplug.h — the polyplug native plugin ABI, version 1 (normative text: docs/native-abi.md).
 *
 * A native plugin is a shared library (.so / .dylib / .dll) that exports ONE symbol:
 *
 *     const polyplug_plugin *polyplug_plugin_v1(void);
 *
 * It links no host symbols: everything it needs from the host (calling the host API, logging,
 * memory) arrives as a table of function pointers in `init`. Values cross the boundary as
 * encoded buffers: UTF-8 JSON, the same conventions as the wire protocol (docs/protocol.md), so
 * a Uint8Array is {"$bytes":"<base64>"}. Call parameters are the JSON array of positional
 * arguments; a result is one JSON value; an error is {"code":"...","message":"..."}.
 *
 * Both structs begin with the ABI version and their own size, and only ever grow at the end
 * (like SQLite's sqlite3_api_routines or OBS's size-prefixed vtables): a reader checks `size`
 * before touching any field added after version 1.
 *
 * Ownership, in one line each:
 *   - `in` buffers and strings passed to a plugin belong to the host and live for the call only.
 *   - `*out` from plugin->call belongs to the plugin; the host copies it, then calls plugin->release.
 *   - `*out` from host->call belongs to the plugin afterwards; it frees it with host->free.
 *
 * The same shapes serve the WASM ABI where natural (methods by name, JSON in and out, a code
 * string on error); see docs/native-abi.md for the mapping.
 */
#ifndef POLYPLUG_H
#define POLYPLUG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define POLYPLUG_ABI_VERSION 1
#define POLYPLUG_ENTRY_SYMBOL "polyplug_plugin_v1"

/* Return values of plugin->call and host->call. */
#define POLYPLUG_OK 0
#define POLYPLUG_ERROR 1 /* *out holds {"code":"...","message":"..."} (or nothing: INTERNAL_ERROR) */

/* Log levels for host->log. */
#define POLYPLUG_LOG_DEBUG 0
#define POLYPLUG_LOG_INFO 1
#define POLYPLUG_LOG_WARN 2
#define POLYPLUG_LOG_ERROR 3

#if defined(_WIN32)
#define POLYPLUG_EXPORT __declspec(dllexport)
#else
#define POLYPLUG_EXPORT __attribute__((visibility("default")))
#endif

/* What the host gives the plugin in `init`. Valid until `shutdown` returns. */
typedef struct polyplug_host {
  uint32_t abi_version; /* POLYPLUG_ABI_VERSION of the host */
  uint32_t size;        /* sizeof(polyplug_host) as the host was built */
  void *ctx;            /* pass back as the first argument of call and log */
  /* Calls a host API method ("host/echo", "host/info", ...) with JSON params (an array) and
     blocks the calling thread until the host answers. Only from inside plugin->call or init
     (which the host runs off its JavaScript thread); elsewhere it fails with HOST_CALL_UNAVAILABLE.
     Returns POLYPLUG_OK with the JSON result in *out, or POLYPLUG_ERROR with an error object. */
  int32_t (*call)(void *ctx, const char *method, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);
  /* A line for the host's log, tagged with the plugin id. `message` is NUL-terminated UTF-8. */
  void (*log)(void *ctx, int32_t level, const char *message);
  /* The host's allocator: buffers from host->call are freed with `free`. */
  void *(*alloc)(size_t size);
  void (*free)(void *ptr);
} polyplug_host;

/* What the plugin returns from polyplug_plugin_v1(). Must stay valid while the library is loaded. */
typedef struct polyplug_plugin {
  uint32_t abi_version; /* POLYPLUG_ABI_VERSION the plugin was built against */
  uint32_t size;        /* sizeof(polyplug_plugin) as the plugin was built */
  const char *name;     /* informative */
  const char *methods;  /* comma-separated method names, e.g. "echo,add" */
  /* Runs once per plugin instance, before its first call. `config` is the activation config as
     a JSON object. The plugin may store its per-instance state in *instance (initially NULL);
     the host passes it back to call and shutdown. The same library can be loaded by several
     plugins in one process (the dynamic loader shares its globals), so per-plugin state — the
     host table above all — belongs in the instance, not in globals.
     Returns POLYPLUG_OK, or POLYPLUG_ERROR (activation fails). May be NULL. */
  int32_t (*init)(const polyplug_host *host, const uint8_t *config, size_t config_len, void **instance);
  /* Runs `method` with JSON params `in` (an array). Called from host pool threads (in a worker,
     also from the worker's own thread), possibly several at once: it must be thread-safe. `cancelled` points at a flag the host sets to
     non-zero when the caller cancels or times out; long calls should poll it and return an
     RPC_CANCELLED error. On return *out (may be NULL when *out_len is 0) is released later
     through `release`. */
  int32_t (*call)(void *instance, const char *method, const uint8_t *in, size_t in_len, uint8_t **out,
                  size_t *out_len, const volatile int32_t *cancelled);
  /* Frees a buffer this plugin returned in *out. */
  void (*release)(uint8_t *buffer, size_t len);
  /* Runs once when the host stops the instance; no call is in flight. Frees the instance. May be NULL. */
  void (*shutdown)(void *instance);
} polyplug_plugin;

/* The one symbol a plugin exports. */
typedef const polyplug_plugin *(*polyplug_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* POLYPLUG_H */
