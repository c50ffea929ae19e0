/*
 * The raw baseline for `shm` between processes: maps the region (docs/shm.md), echoes every
 * message straight back, spins briefly then sleeps on the FIFO doorbell. No RPC, no codec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MORE 0x80000000u
#define WRAP 0x40000000u
typedef struct { volatile uint32_t *tail, *pw, *head, *cw; uint8_t *data; } ring;
static uint8_t *base;
static uint32_t cap;
static ring rx, tx;
static int win, wout;
static int64_t spin_ns = 50000; /* POLYPLUG_SHM_SPIN_US, when larger: the low-latency mode */

static uint32_t ld(volatile uint32_t *w) { return __atomic_load_n(w, __ATOMIC_ACQUIRE); }
static void st(volatile uint32_t *w, uint32_t v) { __atomic_store_n(w, v, __ATOMIC_SEQ_CST); }
static uint32_t xchg(volatile uint32_t *w, uint32_t v) { return __atomic_exchange_n(w, v, __ATOMIC_SEQ_CST); }
static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }
static void bell(void) { uint8_t one = 1; if (write(wout, &one, 1) < 0) {} }

static void sleep_until(int (*ready)(void), volatile uint32_t *flag) {
  int64_t until = now_ns() + spin_ns;
  while (!ready()) {
    if (now_ns() < until) continue;
    st(flag, 1);
    if (ready()) { xchg(flag, 0); return; }
    struct pollfd p = { win, POLLIN, 0 };
    if (poll(&p, 1, 1000) > 0) { uint8_t s[64]; if (read(win, s, sizeof s) == 0) exit(0); }
    if (ld((volatile uint32_t *)(base + 16))) exit(0);
  }
}
static uint32_t need;
static int room(void) { return cap - (*tx.tail - ld(tx.head)) >= need; }
static int readable(void) { return ld(rx.tail) != *rx.head; }

static void put_record(const uint8_t *p, uint32_t n, uint32_t more) {
  uint32_t rec = 4 + ((n + 3) & ~3u), pos = *tx.tail & (cap - 1), to_end = cap - pos;
  need = rec > to_end ? to_end + rec : rec;
  sleep_until(room, tx.pw);
  uint32_t tail = *tx.tail;
  if (rec > to_end) { *(uint32_t *)(tx.data + pos) = WRAP; tail += to_end; pos = 0; }
  *(uint32_t *)(tx.data + pos) = n | more;
  memcpy(tx.data + pos + 4, p, n);
  st(tx.tail, tail + rec);
  if (xchg(tx.cw, 0)) bell();
}

int main(void) {
  const char *spin_us = getenv("POLYPLUG_SHM_SPIN_US");
  if (spin_us && atoll(spin_us) * 1000 > spin_ns) spin_ns = atoll(spin_us) * 1000;
  size_t size = strtoul(getenv("POLYPLUG_SHM_SIZE"), 0, 10);
  int fd = open(getenv("POLYPLUG_SHM_PATH"), O_RDWR);
  base = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (fd < 0 || base == MAP_FAILED) return 2;
  cap = ((uint32_t *)base)[3];
  rx = (ring){ (uint32_t *)(base + 64), (uint32_t *)(base + 68), (uint32_t *)(base + 128), (uint32_t *)(base + 132), base + 512 };
  tx = (ring){ (uint32_t *)(base + 192), (uint32_t *)(base + 196), (uint32_t *)(base + 256), (uint32_t *)(base + 260), base + 512 + cap };
  wout = open(getenv("POLYPLUG_SHM_WAKE_OUT"), O_WRONLY);
  win = open(getenv("POLYPLUG_SHM_WAKE_IN"), O_RDONLY);
  fcntl(wout, F_SETFL, O_NONBLOCK);
  uint8_t *copy = malloc(cap);
  for (;;) {
    sleep_until(readable, rx.cw);
    uint32_t head = *rx.head, pos = head & (cap - 1), word = *(uint32_t *)(rx.data + pos);
    if (word & WRAP) { st(rx.head, head + (cap - pos)); continue; }
    uint32_t n = word & 0x3fffffffu;
    memcpy(copy, rx.data + pos + 4, n); /* copy out first: echoing may wait on the host */
    st(rx.head, head + 4 + ((n + 3) & ~3u));
    if (xchg(rx.pw, 0)) bell();
    put_record(copy, n, word & MORE); /* fragments go back as fragments */
  }
}
