/*
 * The host side of the polyplug native ABI (kits/c/include/polyplug.h), a few lines of C the
 * Node host loads through koffi. It exists for one reason: host->call must BLOCK the plugin's
 * thread until an asynchronous JavaScript host API answers, and JavaScript cannot block a
 * foreign thread by itself. host_call hands the request to JavaScript (koffi queues the callback
 * onto the JS thread and returns at once), then waits on a condition variable that
 * pp_complete (called from JavaScript when the answer arrives) signals.
 *
 * A host made with pp_host_new_sync also accepts host calls on its JS thread: there the plugin
 * runs synchronously (a worker, whose thread may block), and `begin` answers before it returns,
 * by blocking that thread on the worker's sync bridge; the wait below then finds the ticket done.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "polyplug.h"

/* Returns non-zero when the request was accepted; the answer comes later through pp_complete. */
typedef int32_t (*pp_begin_fn)(void *ticket, const char *method, const uint8_t *in, size_t in_len);
typedef void (*pp_log_fn)(int32_t level, const char *message);

typedef struct pp_shim {
  polyplug_host host; /* first: the plugin sees only this part */
  pp_begin_fn begin;
  pp_log_fn log;
  pthread_t js_thread;
  int sync_on_js_thread; /* begin completes the ticket itself when called on js_thread */
} pp_shim;

typedef struct pp_ticket {
  pthread_mutex_t lock;
  pthread_cond_t done_cond;
  int done;
  int32_t status;
  uint8_t *out;
  size_t out_len;
} pp_ticket;

static uint8_t *copy_bytes(const uint8_t *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (copy && len) memcpy(copy, data, len);
  return copy;
}

static int32_t fail(const char *json, uint8_t **out, size_t *out_len) {
  *out_len = strlen(json);
  *out = copy_bytes((const uint8_t *)json, *out_len);
  return POLYPLUG_ERROR;
}

static int32_t host_call(void *ctx, const char *method, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len) {
  pp_shim *shim = ctx;
  *out = NULL;
  *out_len = 0;
  /* Waiting on the JS thread would deadlock it: the answer needs that thread's event loop. */
  if (!shim->sync_on_js_thread && pthread_equal(pthread_self(), shim->js_thread)) {
    return fail("{\"code\":\"HOST_CALL_UNAVAILABLE\",\"message\":\"host->call is only available inside call/init\"}", out, out_len);
  }
  pp_ticket ticket;
  memset(&ticket, 0, sizeof ticket);
  pthread_mutex_init(&ticket.lock, NULL);
  pthread_cond_init(&ticket.done_cond, NULL);
  int32_t status;
  if (!shim->begin(&ticket, method, in, in_len)) {
    status = fail("{\"code\":\"CHANNEL_CLOSED\",\"message\":\"the host is not accepting calls\"}", out, out_len);
  } else {
    pthread_mutex_lock(&ticket.lock);
    while (!ticket.done) pthread_cond_wait(&ticket.done_cond, &ticket.lock);
    pthread_mutex_unlock(&ticket.lock);
    *out = ticket.out;
    *out_len = ticket.out_len;
    status = ticket.status;
  }
  pthread_cond_destroy(&ticket.done_cond);
  pthread_mutex_destroy(&ticket.lock);
  return status;
}

static void host_log(void *ctx, int32_t level, const char *message) {
  ((pp_shim *)ctx)->log(level, message ? message : "");
}

static void *host_alloc(size_t size) { return malloc(size ? size : 1); }
static void host_free(void *ptr) { free(ptr); }

/* Called on the JS thread: that thread is remembered so host_call can refuse to block it. */
POLYPLUG_EXPORT polyplug_host *pp_host_new(pp_begin_fn begin, pp_log_fn log) {
  pp_shim *shim = calloc(1, sizeof *shim);
  if (!shim) return NULL;
  shim->host.abi_version = POLYPLUG_ABI_VERSION;
  shim->host.size = sizeof(polyplug_host);
  shim->host.ctx = shim;
  shim->host.call = host_call;
  shim->host.log = host_log;
  shim->host.alloc = host_alloc;
  shim->host.free = host_free;
  shim->begin = begin;
  shim->log = log;
  shim->js_thread = pthread_self();
  return &shim->host;
}

/* As pp_host_new, for a JS thread that may block (a worker): host calls made on it are answered synchronously by begin. */
POLYPLUG_EXPORT polyplug_host *pp_host_new_sync(pp_begin_fn begin, pp_log_fn log) {
  polyplug_host *host = pp_host_new(begin, log);
  if (host) ((pp_shim *)host->ctx)->sync_on_js_thread = 1;
  return host;
}

POLYPLUG_EXPORT void pp_host_free(polyplug_host *host) { free(host); }

/* Answers one host call exactly once; wakes the plugin thread waiting in host_call. */
POLYPLUG_EXPORT void pp_complete(void *ticket_ptr, int32_t status, const uint8_t *data, size_t len) {
  pp_ticket *ticket = ticket_ptr;
  uint8_t *copy = copy_bytes(data, len);
  pthread_mutex_lock(&ticket->lock);
  ticket->status = copy ? status : POLYPLUG_ERROR;
  ticket->out = copy;
  ticket->out_len = copy ? len : 0;
  ticket->done = 1;
  pthread_cond_signal(&ticket->done_cond);
  pthread_mutex_unlock(&ticket->lock);
}
