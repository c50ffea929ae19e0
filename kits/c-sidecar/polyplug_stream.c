/*
 * Streams for the C kit (docs/protocol.md §7.1). A method answers with a stream by calling
 * pp_stream_begin, then sends items with pp_stream_send, which serves other messages (the nested
 * loop of pp_sleep) while the consumer has granted no credit; the kit sends $/stream/end when the
 * method returns (with its pp_fail error, if any). A {"$stream": SID} argument is read with
 * pp_stream_open and pp_stream_next, which grants credit as items are taken.
 * Single-threaded like the kit: a stream waiting for credit serves nested requests, which finish
 * first (last in, first out).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdlib.h>
#include <string.h>
#include "polyplug_stream.h"

#define MAX_STREAMS 64
#define WINDOW 16

typedef struct item { pp_value *value; struct item *next; } item;

struct pp_stream {
  long sid;
  int producing;
  /* producer */
  long credit;
  int cancelled;
  pp_active *req; /* the request producing it: a cancel also wakes its pp_sleep */
  /* consumer */
  item *head, *tail;
  long outstanding, taken;
  int started, finished;
  char *error_code, *error_message;
};

static pp_stream *live[MAX_STREAMS];
static long next_sid;

static void track(pp_stream *s) {
  for (int i = 0; i < MAX_STREAMS; i++) if (!live[i]) { live[i] = s; return; }
}

static void untrack(pp_stream *s) {
  for (int i = 0; i < MAX_STREAMS; i++) if (live[i] == s) live[i] = NULL;
}

static pp_stream *find(long sid, int producing) {
  for (int i = 0; i < MAX_STREAMS; i++) if (live[i] && live[i]->sid == sid && live[i]->producing == producing) return live[i];
  return NULL;
}

static int room(void) {
  for (int i = 0; i < MAX_STREAMS; i++) if (!live[i]) return 1;
  return 0;
}

static pp_value *sid_params(long sid) { return pp_set(pp_object(), "stream", pp_number((double)sid)); }

static long marker_id(const pp_value *v) {
  if (!v || v->type != PP_OBJECT || v->count != 1 || strcmp(v->keys[0], "$stream") != 0) return -1;
  const pp_value *n = v->items[0];
  if (n->type != PP_NUMBER || n->number < 0 || n->number != (double)(long)n->number) return -1;
  return (long)n->number;
}

pp_stream *pp_stream_begin(pp_ctx *ctx) {
  if (ctx->produced) return ctx->produced;
  if (!room()) { pp_fail(ctx, "INTERNAL_ERROR", "too many open streams in this plugin"); return NULL; }
  pp_stream *s = calloc(1, sizeof *s);
  if (!s) { pp_fail(ctx, "INTERNAL_ERROR", "out of memory"); return NULL; }
  s->sid = ++next_sid;
  s->producing = 1;
  s->req = ctx->req;
  track(s);
  ctx->produced = s;
  pp_value *marker = pp_set(pp_object(), "$stream", pp_number((double)s->sid));
  pp_answer_(ctx->req->id, marker);
  return s;
}

int pp_stream_send(pp_stream *s, pp_value *value) {
  while (s->credit == 0 && !s->cancelled) pp_pump_(-1);
  if (s->cancelled) { pp_free(value); return 1; }
  s->credit--;
  pp_value *params = sid_params(s->sid);
  pp_notify_("$/stream/item", pp_set(params, "value", value ? value : pp_null()));
  return 0;
}

pp_stream *pp_stream_open(pp_ctx *ctx, const pp_value *marker) {
  long sid = marker_id(marker);
  if (sid < 0 || ctx->nopened >= PP_MAX_OPENED || !room()) return NULL;
  pp_stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->sid = sid;
  track(s);
  ctx->opened[ctx->nopened++] = s;
  return s;
}

static void grant(pp_stream *s, long n) {
  s->outstanding += n;
  pp_notify_("$/stream/credit", pp_set(sid_params(s->sid), "n", pp_number((double)n)));
}

static void drop_items(pp_stream *s) {
  while (s->head) {
    item *next = s->head->next;
    pp_free(s->head->value);
    free(s->head);
    s->head = next;
  }
  s->tail = NULL;
}

pp_value *pp_stream_next(pp_ctx *ctx, pp_stream *s) {
  if (!s->started) {
    s->started = 1;
    if (!s->finished) grant(s, WINDOW);
  }
  while (!s->head && !s->finished) pp_pump_(-1);
  if (s->head) {
    item *first = s->head;
    pp_value *value = first->value;
    s->head = first->next;
    if (!s->head) s->tail = NULL;
    free(first);
    if (!s->finished && ++s->taken * 2 >= WINDOW) {
      grant(s, s->taken);
      s->taken = 0;
    }
    return value;
  }
  if (s->error_code) {
    pp_fail(ctx, s->error_code, s->error_message ? s->error_message : s->error_code);
    free(s->error_code);
    free(s->error_message);
    s->error_code = s->error_message = NULL;
  }
  return NULL;
}

static void end_consumer(pp_stream *s, const char *code, const char *message) {
  s->finished = 1;
  if (code) {
    s->error_code = strdup(code);
    s->error_message = strdup(message ? message : code);
  }
}

void pp_stream_receive_(const char *method, const pp_value *params) {
  long sid = -1;
  const pp_value *n = pp_get(params, "stream");
  if (n && n->type == PP_NUMBER) sid = (long)n->number;
  if (sid < 0) return;
  if (strcmp(method, "$/stream/item") == 0 || strcmp(method, "$/stream/end") == 0) {
    pp_stream *s = find(sid, 0);
    if (!s || s->finished) return;
    if (strcmp(method, "$/stream/end") == 0) {
      const pp_value *e = pp_get(params, "error");
      const pp_value *code = pp_get(pp_get(e, "data"), "code"), *message = pp_get(e, "message");
      if (e) end_consumer(s, code && code->type == PP_STRING ? code->str : "INTERNAL_ERROR", message && message->type == PP_STRING ? message->str : NULL);
      else end_consumer(s, NULL, NULL);
      return;
    }
    if (s->outstanding <= 0) {
      drop_items(s);
      end_consumer(s, "STREAM_OVERRUN", "the producer sent more items than it was granted");
      pp_notify_("$/stream/cancel", sid_params(sid));
      return;
    }
    item *it = malloc(sizeof *it);
    if (!it) return;
    const pp_value *value = pp_get(params, "value");
    it->value = value ? pp_clone(value) : pp_null();
    it->next = NULL;
    if (s->tail) s->tail->next = it;
    else s->head = it;
    s->tail = it;
    s->outstanding--;
  } else if (strcmp(method, "$/stream/credit") == 0 || strcmp(method, "$/stream/cancel") == 0) {
    pp_stream *s = find(sid, 1);
    if (!s) return;
    if (strcmp(method, "$/stream/cancel") == 0) {
      s->cancelled = 1;
      s->req->cancelled = 1;
    } else {
      const pp_value *k = pp_get(params, "n");
      if (k && k->type == PP_NUMBER && k->number >= 1) s->credit += k->number > 65536 ? 65536 : (long)k->number;
    }
  }
}

void pp_stream_release_(pp_ctx *ctx, const pp_value *params) {
  pp_stream *p = ctx->produced;
  if (p) {
    if (!p->cancelled) {
      pp_value *end = sid_params(p->sid);
      if (ctx->error_code) {
        pp_value *data = pp_set(pp_set(pp_object(), "code", pp_string(ctx->error_code)), "plugin", pp_string(pp_plugin_id()));
        pp_value *e = pp_set(pp_set(pp_object(), "code", pp_number(pp_numeric_code_(ctx->error_code))), "message", pp_string(ctx->error_message ? ctx->error_message : ctx->error_code));
        pp_set(end, "error", pp_set(e, "data", data));
      }
      pp_notify_("$/stream/end", end);
    }
    untrack(p);
    free(p);
    ctx->produced = NULL;
  }
  for (size_t i = 0; params && params->type == PP_ARRAY && i < params->count; i++) {
    long sid = marker_id(params->items[i]);
    int opened = 0;
    for (int j = 0; j < ctx->nopened; j++) if (ctx->opened[j]->sid == sid) opened = 1;
    if (sid >= 0 && !opened) pp_notify_("$/stream/cancel", sid_params(sid));
  }
  for (int i = 0; i < ctx->nopened; i++) {
    pp_stream *s = ctx->opened[i];
    if (!s->finished) pp_notify_("$/stream/cancel", sid_params(s->sid));
    drop_items(s);
    free(s->error_code);
    free(s->error_message);
    untrack(s);
    free(s);
  }
  ctx->nopened = 0;
}
