/*
 * The conformance plugin in C over the shm transport, written from docs/shm.md alone:
 * maps the region, speaks MessagePack JSON-RPC through the two rings, sleeps on a FIFO doorbell
 * after a short spin. Built by scripts/build-native.mjs (gcc), never committed as a binary.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mp.h"

#define MAGIC 0x4D535050u
#define HEADER 512u
#define MORE 0x80000000u
#define WRAP 0x40000000u
#define SPIN_NS 50000 /* spin at least this long before sleeping on the doorbell */

typedef struct { volatile uint32_t *tail, *producer_waiting, *head, *consumer_waiting; uint8_t *data; } ring;

static uint8_t *base;
static uint32_t cap;
static ring rx, tx; /* rx = ring A (host->plugin), tx = ring B (plugin->host) */
static int wake_in = -1, wake_out = -1;
static const char *plugin_id = "shm-c", *token = "";
static int64_t spin_ns = SPIN_NS; /* longer in low-latency mode: POLYPLUG_SHM_SPIN_US */

static void die(const char *what) { fprintf(stderr, "shm-c: %s\n", what); exit(2); }
static uint32_t ld(volatile uint32_t *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }
static void st(volatile uint32_t *w, uint32_t v) { __atomic_store_n(w, v, __ATOMIC_SEQ_CST); }
static uint32_t xchg(volatile uint32_t *w, uint32_t v) { return __atomic_exchange_n(w, v, __ATOMIC_SEQ_CST); }
/* Takes the other side's wait flag after publishing: a plain load first, the exchange only when it
 * is set. The flag shares a cache line with the index the other side writes after every record; an
 * exchange per message would take that line from it each time. The load is seq_cst like the store
 * of our index before it (an acquire load could pass that store in C11's model), and a side that
 * sets its flag re-checks that index afterwards, so no wake is lost. */
static int take_flag(volatile uint32_t *w) { return __atomic_load_n(w, __ATOMIC_SEQ_CST) && xchg(w, 0); }
static uint32_t align4(uint32_t n) { return (n + 3u) & ~3u; }
static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static ring ring_at(uint32_t ctl, uint32_t data) {
  ring r = { (volatile uint32_t *)(base + ctl), (volatile uint32_t *)(base + ctl + 4),
             (volatile uint32_t *)(base + ctl + 64), (volatile uint32_t *)(base + ctl + 68), base + data };
  return r;
}

static void ring_host(void) {
  uint8_t one = 1;
  if (write(wake_out, &one, 1) < 0 && errno != EAGAIN) { /* host gone: the doorbell EOF ends us */ }
}

/* Blocks (spin, then doorbell) until `ready` holds; exits when the host is gone. */
static void wait_for(int (*ready)(void), volatile uint32_t *flag) {
  int64_t until = now_ns() + spin_ns;
  while (!ready()) {
    if (now_ns() < until) continue;
    st(flag, 1);
    if (ready()) { xchg(flag, 0); return; }
    struct pollfd p = { wake_in, POLLIN, 0 };
    if (poll(&p, 1, 1000) > 0) {
      uint8_t sink[64];
      if (read(wake_in, sink, sizeof sink) == 0) exit(0); /* EOF: the host is gone */
    }
    if (ld((volatile uint32_t *)(base + 16)) == 1) exit(0); /* host closed */
  }
}

static uint32_t need_bytes;
static int tx_has_room(void) { return cap - (*tx.tail - ld(tx.head)) >= need_bytes; }

/* Appends one record to tx, waiting for room; publishes tail, wakes the host if it sleeps.
 * `total` >= 0 marks the first fragment of a message: its payload starts with the u32 total. */
static void put_record(const uint8_t *p, uint32_t n, uint32_t more, int64_t total) {
  uint32_t prefix = total >= 0 ? 4 : 0;
  uint32_t rec = 4 + align4(n + prefix);
  uint32_t pos = *tx.tail & (cap - 1), to_end = cap - pos;
  need_bytes = rec > to_end ? to_end + rec : rec;
  if (!tx_has_room()) wait_for(tx_has_room, tx.producer_waiting); /* no clock read while there is room */
  uint32_t tail = *tx.tail;
  if (rec > to_end) {
    *(uint32_t *)(tx.data + pos) = WRAP;
    tail += to_end;
    pos = 0;
  }
  *(uint32_t *)(tx.data + pos) = (n + prefix) | more;
  if (prefix) *(uint32_t *)(tx.data + pos + 4) = (uint32_t)total;
  memcpy(tx.data + pos + 4 + prefix, p, n);
  st(tx.tail, tail + rec);
  if (take_flag(tx.consumer_waiting)) ring_host();
}

/* One record when it fits half the ring; otherwise fragments, the first announcing the total. */
static void send_msg(const buf *m) {
  uint32_t max = cap / 2 - 4;
  if (4 + align4((uint32_t)m->n) <= cap / 2) { put_record(m->p, (uint32_t)m->n, 0, -1); return; }
  uint32_t at = max - 4;
  put_record(m->p, at, MORE, (int64_t)m->n);
  while (m->n - at > max) { put_record(m->p + at, max, MORE, -1); at += max; }
  put_record(m->p + at, (uint32_t)(m->n - at), 0, -1);
}

/* ---- JSON-RPC over MessagePack ---- */

typedef struct { uint8_t id[16]; size_t id_n; int64_t deadline; int64_t ms; int used; } sleeper;
typedef struct { uint8_t id[16]; size_t id_n; int64_t ours; int used; } forward;
static sleeper sleeps[256];
static forward forwards[256];
static int64_t cancelled, next_id = 1;

static void begin_response(buf *b, span id, int error) {
  w_map(b, 3);
  w_str(b, "jsonrpc"); w_str(b, "2.0");
  w_str(b, "id"); put(b, id.p, id.n);
  w_str(b, error ? "error" : "result");
}

static void reply_error(span id, int number, const char *code, const char *message) {
  buf b = {0};
  begin_response(&b, id, 1);
  w_map(&b, 3);
  w_str(&b, "code"); w_int(&b, number);
  w_str(&b, "message"); w_str(&b, message);
  w_str(&b, "data"); w_map(&b, 1); w_str(&b, "code"); w_str(&b, code);
  send_msg(&b);
  free(b.p);
}

static void reply_raw(span id, span value) {
  buf b = {0};
  begin_response(&b, id, 0);
  put(&b, value.p, value.n);
  send_msg(&b);
  free(b.p);
}

static void reply_int(span id, int64_t v) { buf b = {0}; begin_response(&b, id, 0); w_int(&b, v); send_msg(&b); free(b.p); }
static void reply_empty(span id) { buf b = {0}; begin_response(&b, id, 0); w_map(&b, 0); send_msg(&b); free(b.p); }

static const char *methods[] = { "echo", "add", "fail", "sleep", "cancelCount", "bytes", "callHost", "crash" };

static void hello(span id) {
  buf b = {0};
  begin_response(&b, id, 0);
  w_map(&b, 5);
  w_str(&b, "protocol"); w_int(&b, 1);
  w_str(&b, "id"); w_str(&b, plugin_id);
  w_str(&b, "methods"); w_arr(&b, 8); for (int i = 0; i < 8; i++) w_str(&b, methods[i]);
  w_str(&b, "encodings"); w_arr(&b, 1); w_str(&b, "msgpack");
  w_str(&b, "token"); w_str(&b, token);
  send_msg(&b);
  free(b.p);
}

/* The i-th element of a params array, or an empty span. */
static span param(span params, uint32_t i) {
  const uint8_t *p = params.p, *end = params.p + params.n;
  uint32_t n;
  span none = { 0, 0 };
  if (!params.n || !mp_container(&p, end, 0, &n) || i >= n) return none;
  for (uint32_t k = 0; k < i; k++) { size_t s = mp_size(p, end, 0); if (!s) return none; p += s; }
  span v = { p, mp_size(p, end, 0) };
  return v;
}

static void call(span id, span method, span params) {
  if (mp_eq(method, "$/hello")) return hello(id);
  if (mp_eq(method, "$/activate") || mp_eq(method, "$/ping")) return reply_empty(id);
  if (mp_eq(method, "$/shutdown")) { reply_empty(id); exit(0); }
  if (mp_eq(method, "echo")) { span v = param(params, 0); if (!v.n) return reply_error(id, -32602, "INVALID_PARAMS", "echo(value)"); return reply_raw(id, v); }
  if (mp_eq(method, "add")) {
    int ia, ib; int64_t a, b; double da, db;
    if (!mp_num(param(params, 0), &ia, &a, &da) || !mp_num(param(params, 1), &ib, &b, &db)) return reply_error(id, -32602, "INVALID_PARAMS", "add(a, b) takes numbers");
    if (ia && ib) return reply_int(id, a + b);
    buf r = {0}; begin_response(&r, id, 0); w_double(&r, da + db); send_msg(&r); free(r.p); return;
  }
  if (mp_eq(method, "fail")) {
    const char *s; size_t n; char code[128] = "E_FAIL", message[192];
    span c = param(params, 0);
    if (mp_str(c, &s, &n) && n < sizeof code) { memcpy(code, s, n); code[n] = 0; }
    snprintf(message, sizeof message, "failed on request with code %s", code);
    return reply_error(id, -31000, code, message);
  }
  if (mp_eq(method, "sleep")) {
    int is_int; int64_t ms; double d;
    if (!mp_num(param(params, 0), &is_int, &ms, &d) || id.n > 16) return reply_error(id, -32602, "INVALID_PARAMS", "sleep(ms)");
    for (int i = 0; i < 256; i++) if (!sleeps[i].used) {
      sleeps[i] = (sleeper){ .id_n = id.n, .deadline = now_ns() + ms * 1000000, .ms = ms, .used = 1 };
      memcpy(sleeps[i].id, id.p, id.n);
      return;
    }
    return reply_error(id, -31000, "INTERNAL_ERROR", "too many sleepers");
  }
  if (mp_eq(method, "cancelCount")) return reply_int(id, cancelled);
  if (mp_eq(method, "bytes")) {
    int is_int; int64_t n; double d;
    if (!mp_num(param(params, 0), &is_int, &n, &d) || n < 0 || n > (1 << 26)) return reply_error(id, -32602, "INVALID_PARAMS", "bytes(n)");
    buf r = {0}; begin_response(&r, id, 0); w_bin_header(&r, (uint32_t)n);
    uint8_t *out = malloc((size_t)n + 1);
    for (int64_t i = 0; i < n; i++) out[i] = (uint8_t)i;
    put(&r, out, (size_t)n); free(out);
    send_msg(&r); free(r.p); return;
  }
  if (mp_eq(method, "callHost")) {
    span m = param(params, 0), args = param(params, 1);
    if (!m.n || id.n > 16) return reply_error(id, -32602, "INVALID_PARAMS", "callHost(method, args)");
    for (int i = 0; i < 256; i++) if (!forwards[i].used) {
      forwards[i] = (forward){ .id_n = id.n, .ours = next_id++, .used = 1 };
      memcpy(forwards[i].id, id.p, id.n);
      buf r = {0};
      w_map(&r, 4);
      w_str(&r, "jsonrpc"); w_str(&r, "2.0");
      w_str(&r, "id"); w_int(&r, forwards[i].ours);
      w_str(&r, "method"); put(&r, m.p, m.n);
      w_str(&r, "params"); if (args.n) put(&r, args.p, args.n); else w_arr(&r, 0);
      send_msg(&r); free(r.p); return;
    }
    return reply_error(id, -31000, "INTERNAL_ERROR", "too many host calls");
  }
  if (mp_eq(method, "crash")) _exit(70);
  reply_error(id, -32601, "METHOD_NOT_FOUND", "no such method");
}

static void cancel(span params) {
  /* params: {"id": <id>} */
  const uint8_t *p = params.p, *end = params.p + params.n;
  uint32_t n;
  if (!params.n || !mp_container(&p, end, 1, &n)) return;
  for (uint32_t k = 0; k < n; k++) {
    span key = { p, mp_size(p, end, 0) }; if (!key.n) return; p += key.n;
    span val = { p, mp_size(p, end, 0) }; if (!val.n) return; p += val.n;
    if (!mp_eq(key, "id")) continue;
    for (int i = 0; i < 256; i++) if (sleeps[i].used && sleeps[i].id_n == val.n && !memcmp(sleeps[i].id, val.p, val.n)) {
      sleeps[i].used = 0;
      cancelled++;
      span id = { sleeps[i].id, sleeps[i].id_n };
      reply_error(id, -32800, "RPC_CANCELLED", "sleep cancelled");
    }
  }
}

/* A response to one of our host calls: pass its result or error on to the original caller. */
static void forward_response(span id, span result, span error) {
  int is_int; int64_t ours; double d;
  if (!mp_num(id, &is_int, &ours, &d)) return;
  for (int i = 0; i < 256; i++) if (forwards[i].used && forwards[i].ours == ours) {
    forwards[i].used = 0;
    span original = { forwards[i].id, forwards[i].id_n };
    buf b = {0};
    begin_response(&b, original, error.n != 0);
    if (error.n) put(&b, error.p, error.n); else put(&b, result.p, result.n);
    send_msg(&b); free(b.p);
  }
}

static void handle(const uint8_t *p, size_t n) {
  const uint8_t *end = p + n;
  uint32_t pairs;
  span id = {0, 0}, method = {0, 0}, params = {0, 0}, result = {0, 0}, error = {0, 0};
  if (!mp_container(&p, end, 1, &pairs)) return;
  for (uint32_t k = 0; k < pairs; k++) {
    span key = { p, mp_size(p, end, 0) }; if (!key.n) return; p += key.n;
    span val = { p, mp_size(p, end, 0) }; if (!val.n) return; p += val.n;
    if (mp_eq(key, "id")) id = val;
    else if (mp_eq(key, "method")) method = val;
    else if (mp_eq(key, "params")) params = val;
    else if (mp_eq(key, "result")) result = val;
    else if (mp_eq(key, "error")) error = val;
  }
  if (method.n && (mp_eq(method, "$/cancel") || mp_eq(method, "$/cancelRequest"))) return cancel(params);  /* polyplug's name and LSP's */
  if (method.n && id.n) return call(id, method, params);
  if (!method.n && id.n) return forward_response(id, result, error);
}

/* ---- the consumer side of ring A ---- */

static buf assembly;
static int assembling;
static uint32_t announced;

static void corrupt(const char *what) { fprintf(stderr, "shm-c: region corrupt: %s\n", what); exit(3); }

/* Handles every complete message in rx; returns how many records it consumed. */
static int drain(void) {
  int consumed = 0;
  uint32_t head = *rx.head, tail = ld(rx.tail);
  while (head != tail) {
    uint32_t used = tail - head, pos = head & (cap - 1), to_end = cap - pos;
    if (used > cap || (head & 3) || (tail & 3)) corrupt("indices out of range");
    uint32_t word = *(uint32_t *)(rx.data + pos);
    if (word & WRAP) {
      if (word != WRAP || to_end > used) corrupt("bad wrap marker");
      head += to_end;
      continue;
    }
    uint32_t n = word & 0x3fffffffu, rec = 4 + align4(n);
    if (rec > cap / 2 || rec > to_end || rec > used) corrupt("record out of range");
    const uint8_t *payload = rx.data + pos + 4;
    if (!(word & MORE) && !assembling) {
      handle(payload, n); /* in place: no copy */
    } else {
      if (!assembling) { /* first fragment: u32 total, then bytes */
        if (n < 4) corrupt("first fragment without a total");
        announced = *(const uint32_t *)payload;
        if (announced > (64u << 20)) corrupt("message too large");
        assembling = 1;
        assembly.n = 0;
        payload += 4;
        n -= 4;
      }
      if (assembly.n + n > announced) corrupt("fragments exceed their total");
      put(&assembly, payload, n);
      if (!(word & MORE)) {
        if (assembly.n != announced) corrupt("message shorter than its total");
        assembling = 0;
        handle(assembly.p, assembly.n);
      }
    }
    head += rec;
    st(rx.head, head);
    if (take_flag(rx.producer_waiting)) ring_host();
    consumed++;
    tail = ld(rx.tail);
  }
  return consumed;
}

static int rx_ready(void) { return ld(rx.tail) != *rx.head; }

static int64_t fire_sleepers(void) {
  int64_t now = now_ns(), next = -1;
  for (int i = 0; i < 256; i++) {
    if (!sleeps[i].used) continue;
    if (sleeps[i].deadline <= now) {
      sleeps[i].used = 0;
      span id = { sleeps[i].id, sleeps[i].id_n };
      reply_int(id, sleeps[i].ms);
    } else if (next < 0 || sleeps[i].deadline < next) next = sleeps[i].deadline;
  }
  return next;
}

int main(void) {
  const char *path = getenv("POLYPLUG_SHM_PATH"), *in = getenv("POLYPLUG_SHM_WAKE_IN"), *out = getenv("POLYPLUG_SHM_WAKE_OUT");
  const char *size_s = getenv("POLYPLUG_SHM_SIZE");
  if (getenv("POLYPLUG_PLUGIN_ID")) plugin_id = getenv("POLYPLUG_PLUGIN_ID");
  if (getenv("POLYPLUG_TOKEN")) token = getenv("POLYPLUG_TOKEN");
  if (!path || !in || !out || !size_s) die("POLYPLUG_SHM_* variables missing");
  const char *spin_us = getenv("POLYPLUG_SHM_SPIN_US");
  if (spin_us && atoll(spin_us) * 1000 > spin_ns) spin_ns = atoll(spin_us) * 1000;
  const char *enc = getenv("POLYPLUG_ENCODING");
  if (enc && strcmp(enc, "msgpack") != 0) die("this plugin speaks msgpack only");
  size_t size = strtoul(size_s, 0, 10);
  int fd = open(path, O_RDWR);
  struct stat sb;
  if (fd < 0 || fstat(fd, &sb) < 0 || (size_t)sb.st_size != size) die("cannot open the region");
  base = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) die("mmap failed");
  close(fd);
  uint32_t *h = (uint32_t *)base;
  cap = h[3];
  if (ld(&h[0]) != MAGIC || h[1] != 1 || h[2] != HEADER || cap < 4096 || (cap & (cap - 1)) || HEADER + 2 * (size_t)cap > size) die("bad region header");
  rx = ring_at(64, HEADER);
  tx = ring_at(192, HEADER + cap);
  wake_out = open(out, O_WRONLY); /* first: the host already reads it */
  wake_in = open(in, O_RDONLY);   /* blocks until the host opens it for writing */
  if (wake_out < 0 || wake_in < 0) die("cannot open the doorbells");
  fcntl(wake_out, F_SETFL, O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  for (;;) {
    drain();
    int64_t next = fire_sleepers();
    if (rx_ready()) continue;
    int64_t spin_until = now_ns() + spin_ns;
    while (!rx_ready() && now_ns() < spin_until) {}
    if (rx_ready()) continue;
    st(rx.consumer_waiting, 1);
    if (rx_ready()) { xchg(rx.consumer_waiting, 0); continue; }
    int timeout = 1000;
    if (next >= 0) { int64_t ms = (next - now_ns()) / 1000000 + 1; timeout = ms < timeout ? (int)ms : timeout; }
    struct pollfd p = { wake_in, POLLIN, 0 };
    if (poll(&p, 1, timeout) > 0) {
      uint8_t sink[64];
      if (read(wake_in, sink, sizeof sink) == 0) return 0; /* EOF: the host is gone */
    }
    if (ld(&h[4]) == 1 && !rx_ready()) return 0; /* the host closed cleanly */
  }
}
