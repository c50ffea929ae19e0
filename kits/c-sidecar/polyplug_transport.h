/*
 * Internal to the kit: how the message loop in polyplug.c talks to a transport. Each carries whole
 * JSON-RPC messages: the byte streams framed (polyplug_wire.c) or the broker's (mqtt, polyplug_mqtt.c).
 * The loop stays the same for every transport: it takes queued messages, dispatches them, and waits
 * on the transport when none are queued. Plugins include polyplug.h only.
 */
#ifndef POLYPLUG_TRANSPORT_H
#define POLYPLUG_TRANSPORT_H

#include <stddef.h>

typedef struct {
  /** Sends one serialised message; `must_arrive` for requests, responses and $/cancel (QoS 1 on MQTT). */
  void (*send)(const char *body, size_t n, int must_arrive);
  /** The next received message (malloc'd, NUL-terminated, `*n` bytes; the caller frees), or NULL when none is queued. */
  char *(*take)(size_t *n);
  /** Waits up to `ms` for traffic, queuing the messages that arrive. */
  void (*wait)(long ms);
  /** Whether a message may hold any byte (bytes as attachments, docs/protocol.md §4.1): every transport but ndjson. */
  int (*carries_binary)(void);
} pp_message_transport;

/** The byte-stream transports (stdio, fifo, unix, tcp; polyplug_wire.c) framed as POLYPLUG_FRAMING says;
 *  NULL for another transport name; exits with status 2 and a reason on stderr when it cannot connect. */
const pp_message_transport *pp_wire_open(const char *transport, size_t max_frame);

/** Connects to the broker named by POLYPLUG_MQTT_* and subscribes; exits with status 2 and a reason on stderr when it cannot. */
const pp_message_transport *pp_mqtt_open(const char *plugin_id);

/** Ends the process with `status`, printing `why` (if any) on stderr (polyplug.c). */
void pp_die_(int status, const char *why);

/** Called by a transport that lost its connection: host calls awaiting an answer fail with TRANSPORT_UNAVAILABLE. */
void pp_transport_lost(const char *why);

#endif
