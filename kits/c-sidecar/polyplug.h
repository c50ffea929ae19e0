/*
 * polyplug C sidecar kit: write a polyplug plugin in C99, on libc and jansson (libjansson-dev).
 * Implements docs/protocol.md version 1: transports stdio, fifo, unix, tcp; framings length,
 * content-length, ndjson; encoding json (bytes as {"$bytes": base64}); streams both ways.
 *
 * The kit is single-threaded: requests are served one at a time, in arrival order. A handler that
 * waits (pp_sleep, pp_call) keeps serving other messages while it waits — including $/cancel for
 * itself, later requests and $/shutdown — by running the message loop nested inside the wait.
 * Nested requests finish before the one they interrupted (last in, first out).
 */
#ifndef POLYPLUG_H
#define POLYPLUG_H

#include <stddef.h>

typedef enum { PP_NULL, PP_BOOL, PP_NUMBER, PP_STRING, PP_ARRAY, PP_OBJECT, PP_BYTES } pp_type;

/** A JSON value. Strings and bytes own `str` (`len` bytes, NUL-terminated); arrays and objects own `items` (and `keys`). */
typedef struct pp_value {
  pp_type type;
  int boolean;
  double number;
  char *str;
  size_t len;
  struct pp_value **items;
  char **keys;
  size_t count, cap;
} pp_value;

/* --- values (constructors return NULL only when out of memory) --- */
pp_value *pp_null(void);
pp_value *pp_bool(int b);
pp_value *pp_number(double n);
pp_value *pp_string(const char *s);
pp_value *pp_string_n(const char *s, size_t n);
pp_value *pp_bytes(const unsigned char *data, size_t n);
pp_value *pp_array(void);
pp_value *pp_object(void);
/** Appends `item` to an array (takes ownership). Returns `array`. */
pp_value *pp_push(pp_value *array, pp_value *item);
/** Sets `key` in an object (takes ownership of `item`). Returns `object`. */
pp_value *pp_set(pp_value *object, const char *key, pp_value *item);
/** The member `key` of an object, or NULL. */
const pp_value *pp_get(const pp_value *object, const char *key);
/** Item `i` of an array, or NULL (also for params that are not an array). */
const pp_value *pp_at(const pp_value *array, size_t i);
pp_value *pp_clone(const pp_value *v);
void pp_free(pp_value *v);

/** Parse results. */
enum { PP_OK = 0, PP_ESYNTAX = -1, PP_EDEPTH = -2, PP_ENOMEM = -3 };
/** Parses a JSON text of `n` bytes (nesting up to 64 levels) into `*out`. */
int pp_parse(const char *text, size_t n, pp_value **out);
/** Serialises `v` to a malloc'd string (`*n` bytes, NUL-terminated); NULL when out of memory. */
char *pp_serialize(const pp_value *v, size_t *n);

/* --- plugins --- */
typedef struct pp_ctx pp_ctx;
/** A method: returns its result (ownership passes to the kit; NULL means null), or calls pp_fail and returns NULL.
 *  `params` is always an array of positional arguments: named params (an object) arrive as one
 *  argument, absent params as none (docs/protocol.md 5). */
typedef pp_value *(*pp_handler)(pp_ctx *ctx, const pp_value *params);
typedef struct { const char *name; pp_handler fn; } pp_method;

typedef struct {
  const pp_method *methods;
  size_t method_count;
  /** Called on $/activate with its config (may be NULL); return nonzero after pp_fail to refuse. */
  int (*activate)(pp_ctx *ctx, const pp_value *config);
  /** Called on $/shutdown before the answer. */
  void (*deactivate)(void);
} pp_plugin;

/** Reads POLYPLUG_* from the environment, connects, serves until shutdown or end of stream. Returns the exit status. */
int pp_run(const pp_plugin *plugin);

/** Makes the current request fail with the string `code` (e.g. "E_NOT_READY") and `message`. Returns NULL. */
pp_value *pp_fail(pp_ctx *ctx, const char *code, const char *message);
/** pp_fail with `data` (any JSON; ownership passes to the kit), sent as the error's `data.data`. After a
 *  failed pp_call, the error carries the host's data: a foreign peer's whole `data` (docs/protocol.md 5.1). */
pp_value *pp_fail_data(pp_ctx *ctx, const char *code, const char *message, pp_value *data);
/** Sleeps `ms` while serving other messages. Returns 1 as soon as the request is cancelled, else 0. */
int pp_sleep(pp_ctx *ctx, long ms);
/** Whether the caller cancelled the current request. */
int pp_cancelled(pp_ctx *ctx);
/** Calls the host (`host/<name>`), serving other messages until the answer arrives. Takes ownership of
 *  `params` (NULL: none). Returns the result (caller frees), or NULL with the host's error set on ctx. */
pp_value *pp_call(pp_ctx *ctx, const char *method, pp_value *params);
/** Sends $/progress for the current request (takes ownership of `value`). */
void pp_progress(pp_ctx *ctx, pp_value *value);
/** Sends a $/log notification ("debug", "info", "warn", "error"). */
void pp_log(const char *level, const char *message);
/** The plugin id (POLYPLUG_PLUGIN_ID). */
const char *pp_plugin_id(void);

/* --- streams (docs/protocol.md §7.1) --- */
typedef struct pp_stream pp_stream;
/** Answers the current request with a stream; send its items with pp_stream_send, then return
 *  from the method: the kit ends the stream then (with the method's pp_fail error, if any). NULL
 *  after pp_fail when no stream can be opened. */
pp_stream *pp_stream_begin(pp_ctx *ctx);
/** Sends one item (takes ownership), serving other messages while the consumer has granted no
 *  credit. Returns 0, or 1 once the consumer cancelled: stop and return. */
int pp_stream_send(pp_stream *s, pp_value *item);
/** Reads a {"$stream": SID} value (an argument, or a host call's result) as a stream; NULL for
 *  any other value. What the method leaves unread is cancelled when it returns. */
pp_stream *pp_stream_open(pp_ctx *ctx, const pp_value *marker);
/** The next item (the caller frees), serving other messages while it waits; NULL at the end, or
 *  NULL with the producer's error set on ctx (as by pp_fail) when it failed. */
pp_value *pp_stream_next(pp_ctx *ctx, pp_stream *s);

#endif
