/*
 * The floor under the shm low-latency mode: two processes ping-pong a counter through one
 * MAP_SHARED page, each spinning on the other's word, and, for contrast, one byte through a pair
 * of pipes with blocking reads. Prints {"spinNs":..,"pipeNs":..}: nanoseconds per round trip.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static double spin(int rounds) {
  /* ping and pong on separate cache lines */
  volatile uint32_t *page = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  volatile uint32_t *ping = page, *pong = page + 16;
  pid_t child = fork();
  if (child == 0) {
    for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
      while (__atomic_load_n(ping, __ATOMIC_ACQUIRE) != i) {}
      __atomic_store_n(pong, i, __ATOMIC_RELEASE);
    }
    _exit(0);
  }
  int64_t start = now_ns();
  for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
    __atomic_store_n(ping, i, __ATOMIC_RELEASE);
    while (__atomic_load_n(pong, __ATOMIC_ACQUIRE) != i) {}
  }
  double ns = (double)(now_ns() - start) / rounds;
  waitpid(child, 0, 0);
  return ns;
}

static double pipes(int rounds) {
  int there[2], back[2];
  if (pipe(there) || pipe(back)) return -1;
  char byte = 1;
  pid_t child = fork();
  if (child == 0) {
    for (int i = 0; i < rounds; i++) {
      if (read(there[0], &byte, 1) != 1 || write(back[1], &byte, 1) != 1) _exit(1);
    }
    _exit(0);
  }
  int64_t start = now_ns();
  for (int i = 0; i < rounds; i++) {
    if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1) return -1;
  }
  double ns = (double)(now_ns() - start) / rounds;
  waitpid(child, 0, 0);
  return ns;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 200000;
  spin(rounds / 10); /* warm up */
  double s = spin(rounds);
  double p = pipes(rounds / 10);
  printf("{\"spinNs\":%.1f,\"pipeNs\":%.1f}\n", s, p);
  return 0;
}
