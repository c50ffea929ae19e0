/**
 * What a transport or a kind says about itself. Placements, the manifest validator and the
 * carriers read these descriptions; none of them tests a transport's or a kind's name.
 *
 * A transport module has one *side* per placement it serves (`inline`, `worker`, `sidecar` for
 * `process`, `remote`); the placements it supports are the sides it has. Sides load their code on
 * first use, so describing a transport (for validation, for the JSON Schema) costs nothing.
 */
import type { Channel } from '../channels/channel.js'
import type { FramingName } from '../framing/framing.js'
import type { Manifest, PlacementName } from '../manifest/schema.js'
import type { Codec } from '../rpc/codec.js'
import type { PluginDefinition } from '../sdk/define.js'
import type { PortLike } from '../transports/port.js'
import type { SidecarTransport } from '../transports/sidecar.js'

export type { PortLike }

/** What a transport side needs from the machine: a shared memory region, a Node addon, a message broker. */
export type TransportNeed = 'shared-memory' | 'addon' | 'broker'
/** What a transport side offers a kind: `sync-bridge` lets a plugin's synchronous imports wait for the host. */
export type Provision = 'sync-bridge'
/** What a kind needs: a synchronous host-call bridge, WASI, a Node addon, the TypeScript runtime, module hooks, threads of its own. */
export type KindNeed = Provision | 'wasi' | 'addon' | 'typescript' | 'module-hooks' | 'threads'

/** `worker`: how the host and a worker thread exchange messages. */
export interface WorkerLink {
  /** On the host, before the worker starts; the result (structured-cloneable) reaches `plugin` in the worker. */
  prepare(request: { id: string; options?: Record<string, unknown> | undefined }): unknown
  /** The host's channel; `port` is the Worker (whose posts wake a bridged plugin). */
  host(data: unknown, port: PortLike): Channel
  /** Inside the worker: the plugin's channel; `port` is parentPort, or the bridge's port. */
  plugin(data: unknown, port: PortLike): Channel
  /** The encoding both ends use on a bytes channel; default the Peer's (JSON). */
  readonly codec?: Codec
}

export interface WorkerSide {
  readonly provides?: readonly Provision[]
  readonly needs?: readonly TransportNeed[]
  load(): Promise<WorkerLink>
}

/** What the Node process carrier hands a transport's plugin side. */
export interface PluginSideContext {
  id: string
  /** The environment the host set (POLYPLUG_*). */
  env: Record<string, string | undefined>
  framing: FramingName
  maxFrameBytes: number
  manifest: Manifest
  /** Ends the carrier (the channel is gone, or the host asked). */
  exit(): void
}

/** Serves the loaded plugin on each channel (session) the transport opens. */
export type ServeSessions = (serve: (channel: Channel) => void) => Promise<void>

/**
 * The plugin side of a sidecar transport, as the Node process carrier speaks it: `open` runs
 * before the plugin's code loads (to connect, or to keep stdout for the channel); the function it
 * returns serves the loaded plugin. Kits in other languages implement the same contract
 * (docs/protocol.md).
 */
export interface PluginSide {
  open(context: PluginSideContext): Promise<ServeSessions>
}

/** `process`: the host side (one endpoint per launch) and the plugin side. */
export interface SidecarSide {
  readonly needs?: readonly TransportNeed[]
  host(): Promise<SidecarTransport>
  plugin(): Promise<PluginSide>
}

export interface DialRequest {
  id: string
  /** remote.url, as the manifest spells it. */
  url: string
  /** The plugin's token (remote.token or remote.tokenEnv). */
  token?: string | undefined
  /** PEM to trust for TLS schemes (remote.ca). */
  ca?: Buffer | undefined
}

/** A pool of replicas (manifest `scale`), as the host sees it. */
export interface PoolRequest extends DialRequest {
  /** Methods that may be retried on another replica. */
  idempotent: readonly string[]
  /** What the pool answers `$/hello` with (the replicas each activated their own copy). */
  hello: unknown
  graceMs?: number | undefined
}

export interface PoolReplica {
  replica: string
  state: 'alive' | 'dead' | 'suspect'
  pid?: number
  hostname?: string
  inFlight: number
}

export interface PoolView {
  replicas: PoolReplica[]
  /** Calls sent again after a replica died or the broker went away. */
  retried: number
  /** Calls failed with PLUGIN_CRASHED (non-idempotent, their replica died). */
  crashed: number
  /** Non-idempotent calls failed with TRANSPORT_UNAVAILABLE: granted when the broker restarted, they may or may not have run. */
  interrupted: number
  /** Answers dropped because their call was already answered. */
  duplicateAnswers: number
}

export interface PoolHandle {
  readonly channel: Channel
  view(): PoolView
}

/** One replica joining its pool (`polyplug serve`). */
export interface ReplicaRequest {
  id: string
  /** The broker's url. */
  broker: string
  username?: string
  password?: string
  ca?: Buffer
  /** Share group; default one per plugin id. */
  group?: string
  /** This replica's name, unique in the pool; default machine-pid-random. */
  replica?: string
  /** Runs one call on the loaded, activated plugin. */
  run(method: string, params: unknown): Promise<unknown>
}

export interface RunningReplica {
  readonly replica: string
  /** Leaves the pool cleanly (presence `dead`, disconnect). */
  close(): Promise<void>
}

/** `remote`: how the host reaches a plugin already running at a URL. */
export interface RemoteSide {
  readonly needs?: readonly TransportNeed[]
  /** URL schemes this transport is the default of, e.g. `tcp`. */
  readonly schemes: readonly string[]
  /** Schemes it also reaches when the manifest names it (an http server also speaks `ws`). */
  readonly alsoSchemes?: readonly string[]
  dial(): Promise<(request: DialRequest) => Promise<Channel>>
  /** Reaching a pool of replicas sharing a subscription (manifest `scale`), where the transport can. */
  pool?(): Promise<(request: PoolRequest) => Promise<PoolHandle>>
  /** The replica's side of a pool: join it and take calls. */
  replica?(): Promise<(request: ReplicaRequest) => Promise<RunningReplica>>
}

export interface TransportModule {
  readonly name: string
  readonly description?: string
  /** The placements whose default transport this is. */
  readonly defaultFor?: readonly PlacementName[]
  /** `inline`: the plugin on the host's thread (no wire). */
  readonly inline?: { readonly needs?: readonly TransportNeed[] }
  readonly worker?: WorkerSide
  /** `process`. */
  readonly sidecar?: SidecarSide
  readonly remote?: RemoteSide
  /**
   * An ES module (URL or absolute path) whose import registers this transport: workers and process
   * carriers import it, so an application's own transport works there too. Built-ins need none.
   */
  readonly url?: string
}

export interface LoadRequest {
  id: string
  entryPath: string
  manifest: Manifest
  /** The plugin folder (relative `permissions.fs` paths are from here); default the entry's folder. */
  dir?: string | undefined
  /** Lent by a worker carrier to a kind that needs `sync-bridge`. */
  bridge?: unknown
}

export type KindLoader = (request: LoadRequest) => Promise<PluginDefinition>

/** Made in a worker for a kind that needs `sync-bridge`: its port replaces parentPort for the channel. */
export interface SyncBridge {
  readonly port: PortLike
  readonly bridge: unknown
  /** The loaded plugin, for calls the bridge runs while the guest waits. */
  serve(definition: PluginDefinition): void
}

export type SyncBridgeFactory = (port: import('node:worker_threads').MessagePort, wake: Int32Array, pluginId: string) => SyncBridge

/** What a placement shares with the host (src/registry/placements.ts), given to kinds so they never test a placement's name. */
export interface PlacementTraits {
  /**
   * `thread`: the host's own thread (a plugin's calls run on it); `process`: the host's process on
   * a thread of its own; `none`: a process of its own, or another machine.
   */
  readonly shares: 'thread' | 'process' | 'none'
  /** Reached at the manifest's `remote.url` (already running), not started by the host. */
  readonly dialed: boolean
}

export interface KindModule {
  readonly name: string
  readonly description?: string
  readonly placements: readonly PlacementName[]
  readonly defaultPlacement: PlacementName
  /** What a plugin of this kind needs, given its manifest (placement and entry applied) and what its placement shares with the host. */
  needs?(manifest: Manifest, dir: string | undefined, placement: PlacementTraits): readonly KindNeed[]
  /** Turns the entry into a PluginDefinition in a Node thread; none for a kind that is its own executable. */
  load?(): Promise<KindLoader>
  /**
   * Inline, its calls run to completion on the host's thread: nothing can interrupt them and they
   * cannot wait for the host (the conformance suite skips cancellation, deadlines and host calls).
   */
  readonly inlineBlocksHost?: boolean
  /**
   * Its crash (a segfault in native code) ends the whole process it runs in, not one thread: only a
   * placement that shares nothing with the host contains it.
   */
  readonly crashesProcess?: boolean
  /**
   * In a worker, the host writes 2 (SIGINT) into word 1 of the bridge's wake buffer when it
   * cancels a call, so a computing guest can be interrupted (Pyodide's interrupt buffer).
   */
  readonly interrupt?: boolean
  /**
   * It holds its plugin to `limits.memoryMb` itself (WebAssembly: guest and kernel memory, which a
   * V8 heap limit never counts), so the placement does not also cap the JS heap around it at that
   * size: the carrier's own JavaScript would then compete with the guest for the same few MiB.
   */
  readonly ownsMemoryLimit?: boolean
  /**
   * In a worker whose transport provides a `sync-bridge`, it takes one though it does not need one
   * (it runs without, as in a worker over another transport).
   */
  readonly takesBridge?: boolean
  /**
   * With a bridge, its calls run synchronously on the worker's thread, where no message is read
   * until they return: the host raises their cancel flags in shared memory (kinds/cancel-slots.ts).
   */
  readonly blocksWorker?: boolean
  /**
   * Its plugins import `polyplug/sdk` themselves (the package's modules, with the whole RPC core):
   * a worker or process carrier then runs from the package's modules too, which the plugin loads
   * anyway, instead of the bundled carrier's copy of them (placement/carrier-file.ts).
   */
  readonly importsSdk?: boolean
  /** For a kind that needs (or takes) a `sync-bridge`: how a worker builds it. */
  bridge?(): Promise<SyncBridgeFactory>
  /** As TransportModule.url. */
  readonly url?: string
}
