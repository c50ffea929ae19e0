/*
 * polyplug C sidecar kit: the byte-stream transports (stdio, fifo, unix, tcp) and their framings
 * (length, content-length, ndjson), docs/protocol.md §2-3, as one pp_message_transport: the
 * message loop in polyplug.c sees whole messages, as it does from mqtt.
 */
#define _POSIX_C_SOURCE 200809L
#include "polyplug_transport.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

typedef enum { F_LENGTH, F_CONTENT_LENGTH, F_NDJSON } framing;

static struct {
  int in, out;
  framing framing;
  size_t max_frame;
  char *rx; /* received bytes: rx[start..len) not yet taken */
  size_t len, cap, start;
} W;

static const char *env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

static void write_all(const char *p, size_t n) {
  while (n) {
    ssize_t k = write(W.out, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) pp_die_(0, NULL); /* the host is gone: the channel is closed */
    p += k;
    n -= (size_t)k;
  }
}

/** Frames and writes one message in one write: header and body never part. */
static void wire_send(const char *body, size_t n, int must_arrive) {
  (void)must_arrive; /* a byte stream delivers everything, in order */
  char head[64];
  size_t h = 0;
  if (W.framing == F_LENGTH) {
    head[0] = (char)(n >> 24); head[1] = (char)(n >> 16); head[2] = (char)(n >> 8); head[3] = (char)n;
    h = 4;
  } else if (W.framing == F_CONTENT_LENGTH) {
    h = (size_t)snprintf(head, sizeof head, "Content-Length: %zu\r\n\r\n", n);
  }
  size_t tail = W.framing == F_NDJSON;
  char *all = malloc(h + n + tail);
  if (!all) pp_die_(1, "out of memory");
  memcpy(all, head, h);
  memcpy(all + h, body, n);
  if (tail) all[h + n] = '\n';
  write_all(all, h + n + tail);
  free(all);
}

/** Finds one frame body in the receive buffer: 1 = got one, 0 = need more bytes. Framing errors close the channel. */
static int find_frame(char **body, size_t *n) {
  char *p = W.rx + W.start;
  size_t avail = W.len - W.start;
  if (W.framing == F_LENGTH) {
    if (avail < 4) return 0;
    const unsigned char *u = (const unsigned char *)p;
    size_t len = (size_t)u[0] << 24 | (size_t)u[1] << 16 | (size_t)u[2] << 8 | u[3];
    if (len > W.max_frame) pp_die_(1, "FRAME_TOO_LARGE: incoming frame over the limit");
    if (avail < 4 + len) return 0;
    *body = p + 4;
    *n = len;
    W.start += 4 + len;
    return 1;
  }
  if (W.framing == F_NDJSON) {
    for (;;) {
      char *nl = memchr(p, '\n', avail);
      if (!nl) {
        if (avail > W.max_frame) pp_die_(1, "FRAME_TOO_LARGE: incoming line over the limit");
        return 0;
      }
      size_t len = (size_t)(nl - p);
      W.start += len + 1;
      if (len && p[len - 1] == '\r') len--;
      if (len == 0) { p = nl + 1; avail = W.len - W.start; continue; } /* blank lines are skipped */
      *body = p;
      *n = len;
      return 1;
    }
  }
  /* content-length */
  size_t end = 0;
  for (size_t i = 0; i + 3 < avail && i < 8192; i++) if (memcmp(p + i, "\r\n\r\n", 4) == 0) { end = i; break; }
  if (!end) {
    if (avail >= 8192 + 4) pp_die_(1, "FRAME_INVALID: header block over 8 KiB");
    if (avail >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) pp_die_(1, "FRAME_INVALID: missing Content-Length");
    return 0;
  }
  long long len = -1;
  for (size_t i = 0; i < end;) {
    size_t j = i;
    while (j < end && !(p[j] == '\r' && p[j + 1] == '\n')) j++;
    if (j - i > 15 && strncasecmp(p + i, "content-length:", 15) == 0) {
      char num[32];
      size_t k = j - i - 15;
      if (k >= sizeof num) pp_die_(1, "FRAME_INVALID: bad Content-Length");
      memcpy(num, p + i + 15, k);
      num[k] = 0;
      char *stop;
      len = strtoll(num, &stop, 10);
      while (*stop == ' ') stop++;
      if (*stop || len < 0) pp_die_(1, "FRAME_INVALID: bad Content-Length");
    }
    i = j + 2;
  }
  if (len < 0) pp_die_(1, "FRAME_INVALID: missing Content-Length");
  if ((size_t)len > W.max_frame) pp_die_(1, "FRAME_TOO_LARGE: incoming frame over the limit");
  if (avail < end + 4 + (size_t)len) return 0;
  *body = p + end + 4;
  *n = (size_t)len;
  W.start += end + 4 + (size_t)len;
  return 1;
}

/** The next whole message, copied out (the caller may nest and read more into the buffer). */
static char *wire_take(size_t *n) {
  char *body;
  if (!find_frame(&body, n)) {
    if (W.start > 0) { /* compact */
      memmove(W.rx, W.rx + W.start, W.len - W.start);
      W.len -= W.start;
      W.start = 0;
    }
    return NULL;
  }
  char *copy = malloc(*n + 1);
  if (!copy) pp_die_(1, "out of memory");
  memcpy(copy, body, *n);
  copy[*n] = 0;
  if (W.start == W.len) W.len = W.start = 0;
  return copy;
}

/** Waits up to `ms` for bytes and buffers what arrives; end of stream ends the process. */
static void wire_wait(long ms) {
  struct pollfd pfd = {W.in, POLLIN, 0};
  int r = poll(&pfd, 1, (int)ms);
  if (r < 0 && errno != EINTR) pp_die_(1, "poll failed");
  if (r <= 0) return;
  if (W.cap - W.len < 65536) {
    size_t cap = W.cap ? W.cap : 65536;
    while (cap - W.len < 65536) cap *= 2;
    char *rx = realloc(W.rx, cap);
    if (!rx) pp_die_(1, "out of memory");
    W.rx = rx;
    W.cap = cap;
  }
  ssize_t k = read(W.in, W.rx + W.len, W.cap - W.len);
  if (k < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (k <= 0) {
    if (W.len > W.start) pp_die_(1, "FRAME_INVALID: stream ended inside a frame");
    pp_die_(0, NULL); /* end of stream: the host closed the channel */
  }
  W.len += (size_t)k;
}

static int wire_carries_binary(void) { return W.framing != F_NDJSON; }

static const pp_message_transport WIRE = {wire_send, wire_take, wire_wait, wire_carries_binary};

static int connect_unix(const char *path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) pp_die_(2, "POLYPLUG_SOCKET path too long");
  strcpy(addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) pp_die_(2, "cannot connect to POLYPLUG_SOCKET");
  return fd;
}

static int connect_tcp(const char *address) {
  char host[256];
  const char *colon = strrchr(address, ':');
  if (!colon || (size_t)(colon - address) >= sizeof host) pp_die_(2, "POLYPLUG_ADDRESS is not host:port");
  size_t hl = (size_t)(colon - address);
  const char *h = address;
  if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { h++; hl -= 2; } /* [v6]:port */
  memcpy(host, h, hl);
  host[hl] = 0;
  struct addrinfo hints, *res, *ai;
  memset(&hints, 0, sizeof hints);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0) pp_die_(2, "POLYPLUG_ADDRESS does not resolve");
  int fd = -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (fd >= 0) close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) pp_die_(2, "cannot connect to POLYPLUG_ADDRESS");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

const pp_message_transport *pp_wire_open(const char *transport, size_t max_frame) {
  W.max_frame = max_frame;
  const char *framing = env("POLYPLUG_FRAMING", "length");
  if (strcmp(framing, "length") == 0) W.framing = F_LENGTH;
  else if (strcmp(framing, "content-length") == 0) W.framing = F_CONTENT_LENGTH;
  else if (strcmp(framing, "ndjson") == 0) W.framing = F_NDJSON;
  else pp_die_(2, "unsupported POLYPLUG_FRAMING");
  if (strcmp(transport, "stdio") == 0) {
    /* keep the real stdout for the channel; stray printf output goes to stderr (the host log) */
    fflush(stdout);
    W.in = 0;
    W.out = dup(1);
    if (W.out < 0 || dup2(2, 1) < 0) pp_die_(2, "cannot set up stdio");
  } else if (strcmp(transport, "fifo") == 0) {
    const char *out = getenv("POLYPLUG_FIFO_OUT"), *in = getenv("POLYPLUG_FIFO_IN");
    if (!out || !in) pp_die_(2, "POLYPLUG_FIFO_IN/OUT missing");
    W.out = open(out, O_WRONLY); /* OUT first: the host already reads it (docs/protocol.md §2.2) */
    W.in = W.out < 0 ? -1 : open(in, O_RDONLY);
    if (W.in < 0) pp_die_(2, "cannot open the FIFOs");
  } else if (strcmp(transport, "unix") == 0) {
    W.in = W.out = connect_unix(env("POLYPLUG_SOCKET", ""));
  } else if (strcmp(transport, "tcp") == 0) {
    W.in = W.out = connect_tcp(env("POLYPLUG_ADDRESS", ""));
  } else {
    return NULL;
  }
  return &WIRE;
}
