/*
 * polyplug C sidecar kit: the `mqtt` transport (docs/protocol.md §2.7) on libmosquitto.
 *
 * The plugin listens on polyplug/<id>/to-plugin and answers on polyplug/<id>/to-host, one
 * JSON-RPC message per MQTT message (JSON, or JSON with attachments once $/hello agreed on
 * "binary", docs/protocol.md §4.1), over MQTT 3.1.1 (the id is the correlation id, the opposite
 * topic the reply topic; the host speaks 3.1.1 to aedes and Mosquitto alike). Single-threaded
 * like the rest of the kit: mosquitto_loop runs inside the kit's message loop (wait), and the
 * message callback only queues, so handlers never run inside a libmosquitto callback.
 *
 * Start-up: connect (a refused CONNACK exits at once: status 2, PERMISSION_DENIED on stderr),
 * subscribe at QoS 1, prove the subscription delivers with a probe to our own inbox (Mosquitto
 * grants a forbidden 3.1.1 subscription and then delivers nothing), then publish `$/ready`.
 * At exit: `$/gone` {clean:true}, flushed (bounded), then a clean DISCONNECT. Broker loss: host
 * calls in flight fail with TRANSPORT_UNAVAILABLE and the client reconnects with backoff.
 */
#define _POSIX_C_SOURCE 200809L
#include "polyplug.h"
#include "polyplug_transport.h"

#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KEEPALIVE_S 30
#define START_TIMEOUT_MS 10000
#define PROBE_TIMEOUT_MS 3000
#define GONE_FLUSH_MS 1000

typedef struct message { struct message *next; size_t n; char *body; } message;

static struct {
  struct mosquitto *m;
  char inbox[512], outbox[512];
  char probe[128];
  int connected, connack, subscribed, sub_mid, probe_seen, ever_connected;
  int last_mid, acked_mid;
  long backoff_ms;
  long long next_try;
  message *head, *tail;
} Q;

static void fail(const char *why) {
  fprintf(stderr, "polyplug: %s\n", why);
  exit(2);
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* --- callbacks: they record and queue; nothing is dispatched from inside libmosquitto --- */

static void on_connect(struct mosquitto *m, void *obj, int rc) {
  (void)obj;
  Q.connack = rc == 0 ? 1 : -rc;
  if (rc != 0) return;
  Q.connected = Q.ever_connected = 1;
  Q.backoff_ms = 100;
  /* clean session: every (re)connection subscribes anew */
  mosquitto_subscribe(m, &Q.sub_mid, Q.inbox, 1);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted) {
  (void)m; (void)obj;
  if (mid != Q.sub_mid) return;
  Q.subscribed = count >= 1 && granted[0] != 0x80 ? 1 : -1;
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc) {
  (void)m; (void)obj; (void)rc;
  Q.connected = 0;
}

static void on_publish(struct mosquitto *m, void *obj, int mid) {
  (void)m; (void)obj;
  Q.acked_mid = mid;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
  (void)m; (void)obj;
  if (strcmp(msg->topic, Q.inbox) != 0 || msg->payloadlen < 0) return;
  size_t n = (size_t)msg->payloadlen;
  if (!Q.probe_seen && n == strlen(Q.probe) && memcmp(msg->payload, Q.probe, n) == 0) {
    Q.probe_seen = 1;
    return;
  }
  message *e = malloc(sizeof *e);
  char *body = malloc(n + 1);
  if (!e || !body) fail("out of memory");
  memcpy(body, msg->payload, n);
  body[n] = 0;
  e->next = NULL;
  e->n = n;
  e->body = body;
  if (Q.tail) Q.tail->next = e;
  else Q.head = e;
  Q.tail = e;
}

/* --- the transport --- */

static void publish(const char *topic, const char *body, size_t n, int qos) {
  int rc = mosquitto_publish(Q.m, &Q.last_mid, topic, (int)n, body, qos, false);
  /* while the broker is away a message is lost; the host fails its own calls (TRANSPORT_UNAVAILABLE) */
  if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) fprintf(stderr, "polyplug: MQTT publish failed: %s\n", mosquitto_strerror(rc));
}

static void mqtt_send(const char *body, size_t n, int must_arrive) {
  publish(Q.outbox, body, n, must_arrive ? 1 : 0);
}

static char *mqtt_take(size_t *n) {
  message *e = Q.head;
  if (!e) return NULL;
  Q.head = e->next;
  if (!Q.head) Q.tail = NULL;
  char *body = e->body;
  *n = e->n;
  free(e);
  return body;
}

static void mqtt_wait(long ms) {
  if (Q.connected) {
    int rc = mosquitto_loop(Q.m, (int)ms, 1);
    if (rc == MOSQ_ERR_SUCCESS && Q.connected) return;
    Q.connected = 0;
    Q.next_try = now_ms() + Q.backoff_ms;
    pp_transport_lost("MQTT broker connection lost");
    return;
  }
  /* host calls made while the broker is away fail at once too */
  pp_transport_lost("MQTT broker is not connected");
  /* reconnect with backoff: 100 ms doubling up to 5 s, reset by a successful CONNACK */
  long long left = Q.next_try - now_ms();
  if (left > 0) {
    nap(left < ms ? (long)left : ms);
    return;
  }
  Q.backoff_ms = Q.backoff_ms * 2 > 5000 ? 5000 : Q.backoff_ms * 2;
  Q.next_try = now_ms() + Q.backoff_ms;
  if (mosquitto_reconnect(Q.m) == MOSQ_ERR_SUCCESS) {
    Q.connected = 1; /* the CONNACK (and with it the new subscription) comes through the loop */
    mosquitto_loop(Q.m, (int)(ms < 100 ? ms : 100), 1);
  }
}

/* An MQTT payload is any byte sequence: bytes as attachments once $/hello agreed on them. */
static int mqtt_carries_binary(void) { return 1; }

static const pp_message_transport MQTT = {mqtt_send, mqtt_take, mqtt_wait, mqtt_carries_binary};

/** Runs the loop until `*flag` is nonzero or `timeout_ms` passes; exits when the connection fails. */
static void loop_until(const int *flag, long timeout_ms, const char *what) {
  long long deadline = now_ms() + timeout_ms;
  while (!*flag) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      char why[256];
      snprintf(why, sizeof why, "TRANSPORT_UNAVAILABLE: MQTT broker did not answer (%s)", what);
      fail(why);
    }
    int rc = mosquitto_loop(Q.m, (int)(left < 100 ? left : 100), 1);
    if (rc != MOSQ_ERR_SUCCESS && !*flag) {
      if (Q.connack < 0) break; /* refused: reported by the caller */
      char why[256];
      snprintf(why, sizeof why, "TRANSPORT_UNAVAILABLE: MQTT connection failed (%s): %s", what, mosquitto_strerror(rc));
      fail(why);
    }
  }
}

/** At exit: tell the host this side closes cleanly, wait (bounded) until the broker has it, disconnect. */
static void goodbye(void) {
  if (!Q.m || !Q.connected) return;
  const char *gone = "{\"jsonrpc\":\"2.0\",\"method\":\"$/gone\",\"params\":{\"clean\":true}}";
  publish(Q.outbox, gone, strlen(gone), 1);
  int mid = Q.last_mid;
  long long deadline = now_ms() + GONE_FLUSH_MS;
  /* the broker acknowledges in order: once $/gone is acknowledged, everything before it arrived too */
  while (Q.connected && Q.acked_mid != mid && now_ms() < deadline) {
    if (mosquitto_loop(Q.m, 50, 1) != MOSQ_ERR_SUCCESS) break;
  }
  mosquitto_disconnect(Q.m);
  mosquitto_loop(Q.m, 10, 1);
  mosquitto_destroy(Q.m);
  Q.m = NULL;
  mosquitto_lib_cleanup();
}

/** Splits mqtt://host:port (port 1883 when absent) into `host` and `*port`. */
static void parse_url(const char *url, char *host, size_t size, int *port) {
  const char *p = url;
  if (strncmp(p, "mqtt://", 7) == 0) p += 7;
  else if (strstr(p, "://")) fail("POLYPLUG_MQTT_URL: this kit speaks plain mqtt:// only (no TLS)");
  const char *colon = strrchr(p, ':');
  const char *end = p + strcspn(p, "/");
  if (colon && colon > end) colon = NULL;
  size_t hl = (size_t)((colon ? colon : end) - p);
  if (hl >= 2 && p[0] == '[' && p[hl - 1] == ']') { p++; hl -= 2; } /* [v6]:port */
  if (hl == 0 || hl >= size) fail("POLYPLUG_MQTT_URL has no host");
  memcpy(host, p, hl);
  host[hl] = 0;
  *port = colon ? atoi(colon + 1) : 1883;
  if (*port <= 0 || *port > 65535) fail("POLYPLUG_MQTT_URL has a bad port");
}

const pp_message_transport *pp_mqtt_open(const char *plugin_id) {
  const char *url = getenv("POLYPLUG_MQTT_URL");
  if (!url || !*url) fail("POLYPLUG_MQTT_URL missing");
  if (strpbrk(plugin_id, "+#/")) fail("the plugin id cannot be an MQTT topic level");
  char host[256];
  int port;
  parse_url(url, host, sizeof host, &port);
  snprintf(Q.inbox, sizeof Q.inbox, "polyplug/%s/to-plugin", plugin_id);
  snprintf(Q.outbox, sizeof Q.outbox, "polyplug/%s/to-host", plugin_id);
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  snprintf(Q.probe, sizeof Q.probe, "{\"jsonrpc\":\"2.0\",\"method\":\"$/probe\",\"params\":{\"nonce\":\"%lx%lx\"}}", (unsigned long)t.tv_nsec, (unsigned long)t.tv_sec);
  Q.backoff_ms = 100;

  mosquitto_lib_init();
  Q.m = mosquitto_new(NULL, true, NULL); /* clean session, generated client id */
  if (!Q.m) fail("cannot create the MQTT client");
  const char *user = getenv("POLYPLUG_MQTT_USERNAME"), *password = getenv("POLYPLUG_MQTT_PASSWORD");
  if (user && *user && mosquitto_username_pw_set(Q.m, user, password) != MOSQ_ERR_SUCCESS) fail("bad MQTT credentials");
  /* Nagle's algorithm costs ~40 ms per QoS 1 round trip */
  mosquitto_int_option(Q.m, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(Q.m, on_connect);
  mosquitto_subscribe_callback_set(Q.m, on_subscribe);
  mosquitto_disconnect_callback_set(Q.m, on_disconnect);
  mosquitto_publish_callback_set(Q.m, on_publish);
  mosquitto_message_callback_set(Q.m, on_message);

  int rc = mosquitto_connect(Q.m, host, port, KEEPALIVE_S);
  if (rc != MOSQ_ERR_SUCCESS) {
    char why[512];
    snprintf(why, sizeof why, "TRANSPORT_UNAVAILABLE: cannot connect to MQTT broker %s: %s", url, mosquitto_strerror(rc));
    fail(why);
  }
  loop_until(&Q.connack, START_TIMEOUT_MS, "CONNACK");
  if (Q.connack < 0) {
    char why[512];
    snprintf(why, sizeof why, "PERMISSION_DENIED: MQTT broker %s refused the connection: %s", url, mosquitto_connack_string(-Q.connack));
    fail(why);
  }
  loop_until(&Q.subscribed, START_TIMEOUT_MS, "SUBACK");
  char why[600];
  snprintf(why, sizeof why, "PERMISSION_DENIED: MQTT broker refused the subscription to %s", Q.inbox);
  if (Q.subscribed < 0) fail(why);
  publish(Q.inbox, Q.probe, strlen(Q.probe), 1);
  long long deadline = now_ms() + PROBE_TIMEOUT_MS;
  while (!Q.probe_seen && now_ms() < deadline) {
    if (mosquitto_loop(Q.m, 50, 1) != MOSQ_ERR_SUCCESS) fail("TRANSPORT_UNAVAILABLE: MQTT connection lost while starting");
  }
  if (!Q.probe_seen) fail(why);
  atexit(goodbye);
  const char *ready = "{\"jsonrpc\":\"2.0\",\"method\":\"$/ready\"}";
  /* QoS 1 like $/gone: the host waits for it before $/hello */
  publish(Q.outbox, ready, strlen(ready), 1);
  return &MQTT;
}
