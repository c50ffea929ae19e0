"""The plugin side of the `shm` transport (docs/shm.md), stdlib only: mmap + struct + FIFOs.

connect_shm() returns (reader, write) like the kit's other transports: the reader is a file-like
object yielding length-prefixed frames built from ring messages, and write() takes one
length-prefixed frame and puts its body in the ring. So the kit's loop runs unchanged.

Python has no atomic fences: aligned 4-byte struct stores are single stores on x86-64 (TSO keeps
the payload ahead of `tail`), but the sleep flag's store may be reordered after the following
load of `tail`, which can lose a wake-up. Every sleep therefore has a short timeout (WAIT_S): a
lost wake costs at most that long, never a hang. Use this side on x86-64; ARM needs real fences.
"""
import mmap
import os
import select
import struct
import threading
import time

MAGIC, VERSION, HEADER = 0x4D535050, 1, 512
MORE, WRAP, LENGTH_MASK = 0x80000000, 0x40000000, 0x3FFFFFFF
RING_A, RING_B = 64, 192           # control blocks: A host->plugin, B plugin->host
TAIL, PRODUCER_WAITING, HEAD, CONSUMER_WAITING = 0, 4, 64, 68
HOST_STATE = 16
WAIT_S = 0.002
# Low-latency mode: poll an empty ring this long before sleeping on the doorbell (docs/shm.md).
SPIN_S = min(int(os.environ.get("POLYPLUG_SHM_SPIN_US", "0") or 0), 10000) / 1e6


class ShmError(Exception):
    pass


def _align4(n):
    return (n + 3) & ~3


class Region:
    def __init__(self, path, size, wake_in, wake_out):
        fd = os.open(path, os.O_RDWR)
        try:
            if os.fstat(fd).st_size != size:
                raise ShmError("SHM_CORRUPT: region is not %d bytes" % size)
            self.mm = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        magic, version, header, cap = struct.unpack_from("<4I", self.mm, 0)
        if magic != MAGIC or version != VERSION or header != HEADER or cap < 4096 or cap & (cap - 1) or HEADER + 2 * cap > size:
            raise ShmError("SHM_CORRUPT: bad region header")
        self.cap = cap
        self.out_fd = os.open(wake_out, os.O_WRONLY)   # OUT first: the host already reads it
        self.in_fd = os.open(wake_in, os.O_RDONLY)     # blocks until the host opens it
        os.set_blocking(self.out_fd, False)

    def u32(self, offset):
        return struct.unpack_from("<I", self.mm, offset)[0]

    def set_u32(self, offset, value):
        struct.pack_into("<I", self.mm, offset, value & 0xFFFFFFFF)

    def ring_host(self):
        try:
            os.write(self.out_fd, b"\x01")
        except (BlockingIOError, BrokenPipeError):
            pass    # a wake is pending already, or the host is gone (its EOF reaches us)

    def sleep(self):
        """Waits for the doorbell (or WAIT_S); returns False when the host is gone."""
        ready, _, _ = select.select([self.in_fd], [], [], WAIT_S)
        if ready and os.read(self.in_fd, 64) == b"":
            return False
        return self.u32(HOST_STATE) == 0


class Reader:
    """Consumer of ring A, as a stream of 4-byte big-endian length-prefixed frames."""

    def __init__(self, region):
        self.r = region
        self.buffer = bytearray()

    def _next_message(self):
        r, cap, data = self.r, self.r.cap, HEADER
        assembly, total = None, 0
        while True:
            head, tail = r.u32(RING_A + HEAD), r.u32(RING_A + TAIL)
            if head == tail:
                if SPIN_S > 0:
                    until = time.perf_counter() + SPIN_S
                    while r.u32(RING_A + TAIL) == head and time.perf_counter() < until:
                        pass
                    if r.u32(RING_A + TAIL) != head:
                        continue
                r.set_u32(RING_A + CONSUMER_WAITING, 1)
                if r.u32(RING_A + TAIL) == head and not r.sleep():
                    return None
                continue
            used, pos = (tail - head) & 0xFFFFFFFF, head & (cap - 1)
            to_end = cap - pos
            if used > cap or (head | tail) & 3:
                raise ShmError("SHM_CORRUPT: indices out of range")
            word = r.u32(data + pos)
            if word & WRAP:
                if word != WRAP or to_end > used:
                    raise ShmError("SHM_CORRUPT: bad wrap marker")
                r.set_u32(RING_A + HEAD, (head + to_end) & 0xFFFFFFFF)
                continue
            n = word & LENGTH_MASK
            record = 4 + _align4(n)
            if record > cap // 2 or record > to_end or record > used:
                raise ShmError("SHM_CORRUPT: record out of range")
            start = data + pos + 4
            if assembly is None and word & MORE:       # first fragment: u32 total, then bytes
                total = r.u32(start)
                assembly = bytearray(r.mm[start + 4:start + n])
            elif assembly is not None:
                assembly += r.mm[start:start + n]
            payload = None if word & MORE else (bytes(assembly) if assembly is not None else r.mm[start:start + n])
            r.set_u32(RING_A + HEAD, (head + record) & 0xFFFFFFFF)
            if r.u32(RING_A + PRODUCER_WAITING):
                r.set_u32(RING_A + PRODUCER_WAITING, 0)
                r.ring_host()
            if payload is not None:
                if assembly is not None and len(payload) != total:
                    raise ShmError("SHM_CORRUPT: fragments do not add up to their total")
                return payload

    def read(self, n):
        while len(self.buffer) < n:
            message = self._next_message()
            if message is None:
                break
            self.buffer += struct.pack(">I", len(message)) + message
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


class Writer:
    """Producer of ring B; write() takes one length-prefixed frame (the kit writes whole frames)."""

    def __init__(self, region):
        self.r = region
        self.lock = threading.Lock()

    def _record(self, payload, more, total=None):
        r, cap = self.r, self.r.cap
        prefix = 4 if total is not None else 0
        record = 4 + _align4(len(payload) + prefix)
        while True:
            tail, head = r.u32(RING_B + TAIL), r.u32(RING_B + HEAD)
            pos = tail & (cap - 1)
            to_end = cap - pos
            need = to_end + record if record > to_end else record
            if cap - ((tail - head) & 0xFFFFFFFF) >= need:
                break
            r.set_u32(RING_B + PRODUCER_WAITING, 1)
            select.select([], [], [], WAIT_S)   # the reader thread owns the doorbell: poll for room
        base = HEADER + cap
        if record > to_end:
            r.set_u32(base + pos, WRAP)
            tail, pos = (tail + to_end) & 0xFFFFFFFF, 0
        r.set_u32(base + pos, (len(payload) + prefix) | (MORE if more else 0))
        if prefix:
            r.set_u32(base + pos + 4, total)
        r.mm[base + pos + 4 + prefix:base + pos + 4 + prefix + len(payload)] = payload
        r.set_u32(RING_B + TAIL, (tail + record) & 0xFFFFFFFF)   # after the payload: x86 keeps store order
        if r.u32(RING_B + CONSUMER_WAITING):
            r.set_u32(RING_B + CONSUMER_WAITING, 0)
            r.ring_host()

    def write(self, frame):
        body = memoryview(frame)[4:]
        half = self.r.cap // 2
        with self.lock:
            if 4 + _align4(len(body)) <= half:
                return self._record(body, False)
            first, rest = half - 8, half - 4
            self._record(body[:first], True, total=len(body))
            at = first
            while len(body) - at > rest:
                self._record(body[at:at + rest], True)
                at += rest
            self._record(body[at:], False)


def connect_shm(need):
    region = Region(need("POLYPLUG_SHM_PATH"), int(need("POLYPLUG_SHM_SIZE")), need("POLYPLUG_SHM_WAKE_IN"), need("POLYPLUG_SHM_WAKE_OUT"))
    return Reader(region), Writer(region).write
