/**
 * The host half of the raw shared-memory baselines: a round trip over the same rings, the same
 * region and the same doorbells as the `shm` transport, with no RPC, no codec and no channel.
 */
import { closeSync, constants, ftruncateSync, mkdtempSync, openSync, rmSync } from 'node:fs'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { Socket } from 'node:net'
import { Packr } from 'msgpackr'
import { join } from 'node:path'
import { checkRegion, initRegion, regionSize, Word } from '../src/transports/shm/layout.js'
import { mapShared, nativeByteOps } from '../src/transports/shm/native.js'
import { ringsFor, type RingReader, type RingWriter } from '../src/transports/shm/ring.js'
import { NOT_SMALL, packSmall, unpackSmall } from '../src/rpc/msgpack-small.js'

/** A wake source: `seen()` before looking at the rings, `wait(seen)` resolves once a wake came after it. */
export interface Wakes {
  seen(): number
  wait(seen: number): Promise<void>
  ring(): void
}

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string }
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync

export function atomicsWakes(buffer: SharedArrayBuffer): Wakes {
  const words = new Int32Array(buffer, 0, 8)
  return {
    seen: () => Atomics.load(words, Word.hostWake),
    async wait(seen) {
      const r = waitAsync(words, Word.hostWake, seen)
      if (r.async) await r.value
    },
    ring() {
      Atomics.add(words, Word.pluginWake, 1)
      Atomics.notify(words, Word.pluginWake)
    },
  }
}

export function fdWakes(readFd: number, writeFd: number): Wakes & { close(): void } {
  const input = new Socket({ fd: readFd, readable: true, writable: false })
  const output = new Socket({ fd: writeFd, readable: false, writable: true })
  output.on('error', () => {})
  let count = 0
  let waiters: (() => void)[] = []
  input.on('data', () => {
    count++
    const w = waiters
    waiters = []
    for (const resolve of w) resolve()
  })
  return {
    seen: () => count,
    wait: (seen) => (count !== seen ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    ring: () => void output.write(new Uint8Array([1])),
    close() {
      output.destroy()
      input.destroy()
    },
  }
}

/** The host's ends of the rings in `buffer`, with the same copies as the transport (the addon's memcpy when built). */
function hostRings(buffer: ArrayBufferLike): { writer: RingWriter; reader: RingReader } {
  return ringsFor('host', buffer, checkRegion(buffer), { maxMessageBytes: 1 << 30, bytes: nativeByteOps() })
}

/** Tells a raw echo worker on `region` to stop (it reads the host state word between messages). */
export function stopRawWorker(region: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(region, 0, 8), Word.hostState, 1)
}

/** One message out, one back, over the rings; no queue, one call at a time. */
export class RawRing {
  readonly #writer: RingWriter
  readonly #reader: RingReader
  /** `spinMicros` > 0: poll for the reply that long before sleeping, as the low-latency mode does. */
  constructor(buffer: ArrayBufferLike, readonly wakes: Wakes, readonly spinMicros = 0) {
    const rings = hostRings(buffer)
    this.#writer = rings.writer
    this.#reader = rings.reader
  }

  async roundTrip(message: Uint8Array): Promise<Uint8Array> {
    const writer = this.#writer
    const reader = this.#reader
    writer.begin(message)
    if (this.spinMicros > 0 && writer.pump()) {
      if (writer.takeConsumerWaiting()) this.wakes.ring()
      reader.clearWaiting()
      const until = performance.now() + this.spinMicros / 1000
      while (!reader.readable && performance.now() < until) {
        // poll
      }
    }
    for (;;) {
      const seen = this.wakes.seen()
      if (writer.busy) writer.pump()
      if (writer.takeConsumerWaiting()) this.wakes.ring()
      const reply = reader.read()
      if (reader.takeProducerWaiting()) this.wakes.ring()
      if (reply && !writer.busy) return reply
      const readerSleeps = reader.prepareSleep()
      const writerSleeps = !writer.busy || writer.prepareSleep()
      if (readerSleeps && writerSleeps) await this.wakes.wait(seen)
    }
  }
}

/**
 * Many messages in flight over the rings, for the throughput matrix: a send is written at once
 * when the ring has room (else queued). One reader loop runs while anything is outstanding; it
 * sleeps on the doorbell only with requests in the ring, so a reply always wakes it. What a reply
 * goes to is the subclass's: the raw echo's next waiter in order, the floor's caller by id.
 */
abstract class RingPipeline {
  readonly #writer: RingWriter
  readonly #reader: RingReader
  readonly #queue: Uint8Array[] = []
  #running = false

  constructor(buffer: ArrayBufferLike, readonly wakes: Wakes) {
    const rings = hostRings(buffer)
    this.#writer = rings.writer
    this.#reader = rings.reader
  }

  /** Calls sent and not yet answered. */
  protected abstract get outstanding(): number
  /** One reply read from the ring (a copy: it stays valid). */
  protected abstract receive(reply: Uint8Array): void

  protected send(message: Uint8Array): void {
    if (this.#writer.busy || this.#queue.length > 0) this.#queue.push(message)
    else {
      this.#writer.begin(message)
      this.#writer.pump()
      if (this.#writer.takeConsumerWaiting()) this.wakes.ring()
    }
    if (!this.#running) void this.#run()
  }

  async #run(): Promise<void> {
    this.#running = true
    const writer = this.#writer
    const reader = this.#reader
    while (this.outstanding > 0) {
      const seen = this.wakes.seen()
      while (writer.pump()) {
        const next = this.#queue.shift()
        if (!next) break
        writer.begin(next)
      }
      if (writer.takeConsumerWaiting()) this.wakes.ring()
      let got = false
      for (let reply = reader.read(); reply; reply = reader.read()) {
        got = true
        this.receive(reply)
      }
      if (reader.takeProducerWaiting()) this.wakes.ring()
      if (got) continue
      const readerSleeps = reader.prepareSleep()
      const writerSleeps = !writer.busy || writer.prepareSleep()
      if (readerSleeps && writerSleeps) await this.wakes.wait(seen)
    }
    this.#running = false
  }
}

/** The raw baseline: bytes out, the same bytes back, matched to sends in order (the raw echoes answer in order). */
export class RawRingPipeline extends RingPipeline {
  readonly #waiting: ((reply: Uint8Array) => void)[] = []

  protected get outstanding(): number {
    return this.#waiting.length
  }

  protected receive(reply: Uint8Array): void {
    this.#waiting.shift()!(reply)
  }

  call(message: Uint8Array): Promise<Uint8Array> {
    const reply = new Promise<Uint8Array>((resolve) => this.#waiting.push(resolve))
    this.send(message)
    return reply
  }
}

/** The floor's MessagePack: polyplug's options (src/rpc/msgpack.ts), so the same bytes cross. */
const floorPackr = new Packr({ useRecords: false, moreTypes: false, encodeUndefinedAsNil: true, mapsAsObjects: true })

/**
 * The least a MessagePack host does per message: a small call's flat envelope written and read by
 * hand (src/rpc/msgpack-small.ts, msgpackr's bytes and values exactly), msgpackr for anything else.
 * Until round eight the floor packed and unpacked every message with msgpackr; a host that writes
 * the envelope by hand does less, so the floor does too.
 */
const floorPack = (message: unknown): Uint8Array => packSmall(message) ?? floorPackr.pack(message)
function floorUnpack(bytes: Uint8Array): unknown {
  const small = unpackSmall(bytes)
  return small === NOT_SMALL ? floorPackr.unpack(bytes) : small
}

/**
 * The hand-written MessagePack-RPC floor over the same rings and the same raw echo: the work no
 * MessagePack JSON-RPC host can skip, and nothing else. Each call packs a request with its own id
 * (a small envelope by hand, else msgpackr, with polyplug's options: no records, plain maps), the raw echo sends the frame back
 * as it came, and the host unpacks it and hands the value to the caller found by that id. No
 * Peer, no deadline, no cancellation, no statistics, no typed errors: what polyplug does beyond
 * this is its own cost, what this costs beyond the raw ring is the protocol's.
 */
export class MsgpackFloorPipeline extends RingPipeline {
  readonly #pending = new Map<number, (value: unknown) => void>()
  #id = 0

  protected get outstanding(): number {
    return this.#pending.size
  }

  protected receive(reply: Uint8Array): void {
    const message = floorUnpack(reply) as { id: number; params: unknown[] }
    const resolve = this.#pending.get(message.id)
    this.#pending.delete(message.id)
    resolve?.(message.params[0])
  }

  call(value: unknown): Promise<unknown> {
    const id = ++this.#id
    const reply = new Promise((resolve) => this.#pending.set(id, resolve))
    this.send(floorPack({ jsonrpc: '2.0', id, method: 'echo', params: [value] }))
    return reply
  }
}

/** A region in a private /dev/shm directory with FIFO doorbells, and the C raw echo mapped onto it. */
export function startRawProcessEcho(executable: string, capacity = 4 << 20, spinMicros = 0): { ring: RawRing; pipeline(): RawRingPipeline; floor(): MsgpackFloorPipeline; stop(): Promise<void> } {
  const dir = mkdtempSync('/dev/shm/polyplug-bench-')
  const path = join(dir, 'region')
  const size = regionSize(capacity)
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600)
  ftruncateSync(fd, size)
  const buffer = mapShared(fd, size)
  closeSync(fd)
  initRegion(buffer, capacity)
  execFileSync('mkfifo', ['-m', '600', join(dir, 'in'), join(dir, 'out')])
  const readFd = openSync(join(dir, 'out'), constants.O_RDONLY | constants.O_NONBLOCK)
  const child: ChildProcess = spawn(executable, [], {
    stdio: 'inherit',
    env: { POLYPLUG_SHM_SPIN_US: String(spinMicros), POLYPLUG_SHM_PATH: path, POLYPLUG_SHM_SIZE: String(size), POLYPLUG_SHM_WAKE_IN: join(dir, 'in'), POLYPLUG_SHM_WAKE_OUT: join(dir, 'out') },
  })
  // The child opens OUT, then IN for reading; opening IN for writing blocks until it is there.
  const writeFd = openSync(join(dir, 'in'), constants.O_WRONLY)
  const wakes = fdWakes(readFd, writeFd)
  return {
    ring: new RawRing(buffer, wakes, spinMicros),
    pipeline: () => new RawRingPipeline(buffer, wakes),
    floor: () => new MsgpackFloorPipeline(buffer, wakes),
    async stop() {
      Atomics.store(new Int32Array(buffer, 0, 8), Word.hostState, 1)
      wakes.close()
      child.kill()
      await new Promise((r) => child.once('exit', r))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
