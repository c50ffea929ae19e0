/*
 * Internal to the kit: what the message loop (polyplug.c) and the streams (polyplug_stream.c,
 * docs/protocol.md §7.1) need from each other. Plugins include polyplug.h only.
 */
#ifndef POLYPLUG_STREAM_H
#define POLYPLUG_STREAM_H

#include "polyplug.h"

#define PP_MAX_OPENED 8

/** One request being served. */
typedef struct { pp_value *id; int cancelled; char traceparent[64]; } pp_active;

struct pp_ctx {
  pp_active *req;
  char *error_code;
  char *error_message;
  const char *method;
  /** The stream this request answered with (pp_stream_begin), if any. */
  pp_stream *produced;
  /** Stream arguments it opened (pp_stream_open). */
  pp_stream *opened[PP_MAX_OPENED];
  int nopened;
  /** The data of the error the method set (pp_fail_data), any JSON. */
  pp_value *error_data;
};

/* from polyplug.c */
/** Sends a notification; takes ownership of `params`. */
void pp_notify_(const char *method, pp_value *params);
/** Answers request `id` with `result` (takes ownership). */
void pp_answer_(const pp_value *id, pp_value *result);
/** The JSON-RPC number of string code `code` (schema/error-codes.json; APPLICATION_ERROR for any other). */
int pp_numeric_code_(const char *code);
/** Serves one message, waiting up to `timeout_ms` (-1: no limit). Returns 1 when one was served. */
int pp_pump_(long timeout_ms);

/* from polyplug_stream.c */
/** Handles a $/stream/... notification. */
void pp_stream_receive_(const char *method, const pp_value *params);
/** The request served with `ctx` returned: ends the stream it produced (with ctx's error, if any),
 *  cancels the stream arguments it did not finish (and those in `params` it never opened). */
void pp_stream_release_(pp_ctx *ctx, const pp_value *params);

#endif
