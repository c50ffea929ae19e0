/**
 * `process`: the plugin runs as a child process and is reached over the `sidecar` side of its
 * transport's module (src/transports/sidecar.ts). A kind with no loader (`exec`) is its own
 * executable; a kind with one runs inside the Node process carrier (process-carrier.ts).
 *
 * The channel handed to the host closes with PLUGIN_CRASHED (exit code and signal in `data`)
 * the moment the process exits without being asked to, so in-flight calls fail at once. `kill`
 * closes the channel first, then sends SIGTERM and, after a grace period, SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Channel } from '../channels/channel.js'
import { captureLines } from './lines.js'
import { deliverFrom } from '../channels/deliver-from.js'
import { normalizeChannel } from '../channels/normalize.js'
import { DEFAULT_MAX_FRAME_BYTES } from '../framing/framing.js'
import { jsonCodec, type Codec } from '../rpc/codec.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'
import { PROTOCOL_VERSION } from '../sdk/protocol.js'
import { kindModule, kindNeeds, modulesToImport, transportModule, transportNeeds } from '../registry/index.js'
import { SHARE_SDK_ENV } from '../kinds/sdk-share.js'
import type { SidecarEndpoint } from '../transports/sidecar.js'
import { confine, resolveArgv, type Confinement } from './confine.js'
import { checkSandbox, resolveProgram, sandboxCommand, sandboxRefusal } from './sandbox.js'
import type { Launched, LaunchSpec } from './placement.js'
import { sidecarProtocol, type MessageProtocol } from './protocol.js'
import { spawnFailed } from './spawn-error.js'
import { CARRIER_BUNDLE_ENV, carrierFile } from './carrier-file.js'

/** polyplug's plugin kits for other languages (Python, ...), which exec plugins may import. */
const kitsRead = [fileURLToPath(new URL('../../../kits', import.meta.url))]

/** Time a process has after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 2000
/** How long a closed stream waits for the exit status before reporting the crash without it. */
const EXIT_WAIT_MS = 1000

interface Exit {
  exitCode: number | null
  signal: NodeJS.Signals | null
}

/** Variables longer than this make spawn fail with E2BIG on Linux (MAX_ARG_STRLEN is 128 KiB). */
const MAX_MANIFEST_ENV = 64 * 1024

/** POLYPLUG_MANIFEST: the validated manifest as JSON, e.g. for a plugin's GET /manifest; left out when huge. */
function manifestEnv(json: string): Record<string, string> {
  return json.length <= MAX_MANIFEST_ENV ? { POLYPLUG_MANIFEST: json } : {}
}

export async function launchProcess(spec: LaunchSpec): Promise<Launched> {
  const { manifest, entryPath, dir } = spec.loaded
  const side = transportModule(manifest.transport)?.sidecar
  if (!side) throw new PolyplugError(ErrorCodes.TRANSPORT_UNAVAILABLE, `transport "${manifest.transport}" cannot reach a process yet`, { plugin: spec.id })
  const transport = await side.host()
  const protocol = sidecarProtocol(manifest)
  const framing = manifest.sidecar?.framing ?? protocol.framing
  const encoding = manifest.sidecar?.encoding ?? 'json'
  if (framing === 'ndjson' && encoding === 'msgpack') {
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, 'ndjson framing carries JSON text only: use framing "length" with msgpack', { plugin: spec.id })
  }
  const token = randomBytes(16).toString('hex')
  const manifestJson = JSON.stringify(manifest)
  const endpoint = await transport.prepare({ id: spec.id, framing, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, token, options: manifest.transportOptions })
  const protocolEnv: Record<string, string> = {
    POLYPLUG_PROTOCOL: String(PROTOCOL_VERSION),
    POLYPLUG_PLUGIN_ID: spec.id,
    POLYPLUG_TRANSPORT: manifest.transport,
    POLYPLUG_FRAMING: framing,
    POLYPLUG_ENCODING: encoding,
    POLYPLUG_TOKEN: token,
    POLYPLUG_HOST_PID: String(process.pid),
    POLYPLUG_MAX_FRAME_BYTES: String(DEFAULT_MAX_FRAME_BYTES),
    ...manifestEnv(manifestJson),
    ...endpoint.env,
  }
  // A kind with a loader runs in the Node carrier; one without is its own executable.
  const nodeCarrier = kindModule(manifest.kind)?.load !== undefined
  const modules = modulesToImport(manifest)
  if (nodeCarrier && modules.length > 0) protocolEnv.POLYPLUG_MODULES = JSON.stringify(modules)
  const needs = kindNeeds(manifest, dir)
  // The carrier cannot look for the host's polyplug/sdk itself under the permission model: told here.
  if (nodeCarrier) protocolEnv[SHARE_SDK_ENV] = needs.includes('module-hooks') ? '1' : '0'
  // Bundled or not, the carrier's own worker (carrier-relay.ts) starts the way the carrier did.
  const bundleSwitch = process.env[CARRIER_BUNDLE_ENV]
  if (nodeCarrier && bundleSwitch !== undefined) protocolEnv[CARRIER_BUNDLE_ENV] = bundleSwitch
  // A kind or transport that loads an addon runs under Node's permission model with --allow-addons
  // (an addon is native code past its checks): the sandbox below binds every process plugin anyway.
  const needsAddon = needs.includes('addon') || transportNeeds(manifest).includes('addon')
  let confinement: Confinement
  let command: string[]
  let launched = false // started by polyplug-launch, which makes the plugin's process group
  let program = '' // the plugin's own program (what a spawn error names), not the launcher wrapping it
  try {
    const { launcher, needAbi } = checkSandbox(spec.id, manifest, spec.sandbox)
    confinement = await confine({
      manifest,
      dir,
      protocolEnv,
      nodePermissions: nodeCarrier,
      grants: {
        read: [...(endpoint.files?.read ?? []), ...modules.map(moduleFolder)],
        write: endpoint.files?.write ?? [],
        wasi: needs.includes('wasi'),
        // Node runs module hooks (the TypeScript loader, the host's polyplug/sdk) in a thread of their own; some kinds start threads themselves.
        threads: needs.includes('typescript') || needs.includes('module-hooks') || needs.includes('threads'),
        addons: needsAddon,
      },
    })
    const memoryMb = manifest.limits?.memoryMb
    // V8 reserves far more address space than it uses: a Node carrier's memory bound is its heap,
    // unless the kind holds the plugin to the limit itself.
    const heap = nodeCarrier && memoryMb && !kindModule(manifest.kind)?.ownsMemoryLimit ? [`--max-old-space-size=${memoryMb}`] : []
    const argv = nodeCarrier
      ? [process.execPath, ...heap, ...confinement.nodeArgs, fileURLToPath(carrierFile('process-carrier', { importsSdk: kindModule(manifest.kind)?.importsSdk === true })), entryPath, manifestJson]
      : resolveArgv(manifest.sidecar?.command ?? [entryPath], dir)
    argv[0] = resolveProgram(spec.id, argv[0] as string, confinement.env.PATH)
    program = argv[0]
    launched = launcher
    command = launcher
      ? sandboxCommand({
          manifest,
          dir,
          cwd: confinement.cwd,
          argv,
          read: nodeCarrier ? confinement.runtimeRead : kitsRead,
          files: endpoint.files,
          network: endpoint.network,
          addressSpaceMb: nodeCarrier ? undefined : memoryMb,
          hostPid: process.pid,
          needAbi,
          path: confinement.env.PATH,
        })
      : argv
  } catch (cause) {
    await endpoint.dispose()
    if (cause instanceof PolyplugError) throw cause
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot prepare the plugin's working directory: ${(cause as Error).message}`, { plugin: spec.id, cause })
  }
  let child: ChildProcess
  try {
    // The plugin leads a process group of its own, which stop and close signal whole: the launcher
    // makes one in the host's session (setpgid); unlaunched, `detached` makes a session (setsid).
    // Not a session under the launcher: with autogroup scheduling a session is a scheduling group
    // of its own, and each round trip with the host waited on the scheduler (docs/performance.md).
    child = spawn(command[0] as string, command.slice(1), { cwd: confinement.cwd, env: confinement.env, detached: !launched, stdio: [endpoint.usesStdio ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
  } catch (cause) {
    await endpoint.dispose()
    await confinement.dispose().catch(() => {})
    throw new PolyplugError(ErrorCodes.PLUGIN_UNAVAILABLE, `cannot start ${command[0]}: ${(cause as Error).message}`, { plugin: spec.id, cause })
  }
  const log = spec.log ?? (() => {})
  const tail = new StderrTail()
  captureLines(child.stderr, (line) => {
    tail.push(line)
    log('info', line)
  })
  if (!endpoint.usesStdio) captureLines(child.stdout, (line) => log('info', `stdout: ${line}`))
  // A process that could not be spawned (ENOENT, EACCES) emits 'error' and never 'exit'.
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve))
  const exited = exitOf(child, spawnError)
  const cleaned = exited.then(() => confinement.dispose().catch(() => {}))

  // Why the process is gone: the launcher refused it (this kernel lacks a rule the plugin needs), or it crashed.
  const whyExited = (what: string) => (exit: Exit) => sandboxRefusal(spec.id, manifest, spec.sandbox, exit.exitCode, tail.text()) ?? crashed(spec.id, exit, what, tail)
  const channel = await connectWithin(spec, endpoint, child, program, exited, spawnError, whyExited('exited before connecting')).catch(async (error: unknown) => {
    signalGroup(child, 'SIGKILL')
    await endpoint.dispose().catch(() => {})
    throw error
  })
  // msgpackr loads only for plugins that speak MessagePack.
  const codec = encoding === 'msgpack' ? (await import('../rpc/msgpack.js')).msgpackCodec : jsonCodec
  return supervise(spec.id, channel, child, exited, endpoint, token, codec, cleaned, protocol, whyExited('exited'))
}

/** How long an exited process's stderr may take to drain before the crash is reported without its last lines. */
const STDERR_DRAIN_MS = 200

/**
 * Resolves once the process exited and its stderr was read to the end (bounded: a grandchild may
 * hold stderr open), or at once with no status when it never started.
 */
function exitOf(child: ChildProcess, spawnError: Promise<Error>): Promise<Exit> {
  return new Promise<Exit>((resolve) => {
    void spawnError.then(() => resolve({ exitCode: null, signal: null }))
    child.once('exit', (exitCode, signal) => {
      const done = () => resolve({ exitCode, signal })
      const timer = setTimeout(done, STDERR_DRAIN_MS)
      child.once('close', () => {
        clearTimeout(timer)
        done()
      })
    })
  })
}

/**
 * The transport's connect, bounded by the start timeout, by the spawn failing (missing command,
 * no exec bit) and by the process dying first. A stdio transport connects before the spawn result
 * is known, so the spawn outcome is awaited too: a command that cannot start rejects at once.
 */
async function connectWithin(spec: LaunchSpec, endpoint: SidecarEndpoint, child: ChildProcess, command: string, exited: Promise<Exit>, spawnError: Promise<Error>, exitedEarly: (exit: Exit) => PolyplugError): Promise<Channel> {
  const timeoutMs = spec.startTimeoutMs ?? 30_000
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new PolyplugError(ErrorCodes.PLUGIN_START_TIMEOUT, `the plugin did not connect within ${timeoutMs} ms`, { plugin: spec.id })), timeoutMs)
  const aborted = new Promise<never>((_, reject) => {
    if (controller.signal.aborted) reject(controller.signal.reason)
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true })
  })
  aborted.catch(() => {})
  void spawnError.then((cause) => controller.abort(spawnFailed(spec.id, command, cause)))
  void exited.then((exit) => controller.abort(exitedEarly(exit)))
  const spawned = new Promise<void>((resolve) => child.once('spawn', resolve))
  try {
    const channel = await Promise.race([endpoint.connect({ stdin: child.stdin, stdout: child.stdout }, controller.signal), aborted])
    try {
      await Promise.race([spawned, aborted])
    } catch (error) {
      await channel.close().catch(() => {})
      throw error
    }
    return channel
  } finally {
    clearTimeout(timer)
  }
}

function crashed(plugin: string, exit: Exit, what = 'exited', tail?: StderrTail): PolyplugError {
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.exitCode}`
  const stderr = tail?.text() ?? ''
  return new PolyplugError(ErrorCodes.PLUGIN_CRASHED, `plugin process ${what} (${how})${stderr ? `; last stderr lines:\n${stderr}` : ''}`, {
    plugin,
    data: { exitCode: exit.exitCode, signal: exit.signal, ...(stderr ? { stderr } : {}) },
  })
}

/** The last lines a process wrote to stderr, at most STDERR_TAIL_LINES lines and STDERR_TAIL_BYTES characters. */
export const STDERR_TAIL_LINES = 20
export const STDERR_TAIL_BYTES = 4096

class StderrTail {
  readonly #lines: string[] = []
  #size = 0

  push(line: string): void {
    const kept = line.length > STDERR_TAIL_BYTES ? `${line.slice(0, STDERR_TAIL_BYTES - 1)}…` : line
    this.#lines.push(kept)
    this.#size += kept.length + 1
    while (this.#lines.length > STDERR_TAIL_LINES || this.#size > STDERR_TAIL_BYTES) this.#size -= (this.#lines.shift() as string).length + 1
  }

  text(): string {
    return this.#lines.join('\n')
  }
}

/** Wraps the transport's channel so that its close tells why the process went away. */
function supervise(plugin: string, inner: Channel, child: ChildProcess, exited: Promise<Exit>, endpoint: SidecarEndpoint, token: string, codec: Codec, cleaned: Promise<void>, protocol: MessageProtocol, whyExited: (exit: Exit) => PolyplugError): Launched {
  let killing = false
  let exit: Exit | undefined
  void exited.then((e) => {
    exit = e
    if (!killing) void channel.close(whyExited(e))
    void endpoint.dispose().catch(() => {})
  })
  /**
   * A send that failed because the connection dropped (an http POST whose process died) is
   * explained by the exit status when one follows shortly: the caller sees PLUGIN_CRASHED. The
   * same for a request the channel took and then answered with its failure (http's POSTs).
   */
  const explain = (error: PolyplugError): PolyplugError | Promise<PolyplugError> => {
    if (error.code !== ErrorCodes.TRANSPORT_UNAVAILABLE) return error
    let timer: ReturnType<typeof setTimeout> | undefined
    return Promise.race([exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), EXIT_WAIT_MS)))]).then((e) => {
      clearTimeout(timer)
      return e ? whyExited(e) : error
    })
  }
  inner.explainFailures?.(explain)
  const explained = (sent: void | Promise<void>): void | Promise<void> => {
    if (!(sent instanceof Promise)) return sent
    return sent.catch(async (error: unknown) => {
      throw error instanceof PolyplugError ? await explain(error) : error
    })
  }
  const sendText = inner.sendText?.bind(inner)
  // Messages go from the transport's channel to the Peer directly (deliverFrom): this wrapper
  // only changes how sends fail and how the channel closes.
  const supervised = normalizeChannel({
    carries: inner.carries,
    ...(inner.binary ? { binary: true } : {}),
    ...(inner.useCodec ? { useCodec: inner.useCodec.bind(inner) } : {}),
    open(sink) {
      inner.onClose((error) => {
        if (killing) return
        // A dropped network connection (http, mqtt) is like end of stream: the exit status, if one
        // comes, says why; a process that lives on without its connection is terminated.
        const dropped = error instanceof PolyplugError && error.code === ErrorCodes.TRANSPORT_UNAVAILABLE
        if (error instanceof PolyplugError && error.code !== ErrorCodes.CHANNEL_CLOSED && !dropped) {
          // The plugin broke the framing: it cannot be trusted to go on.
          sink.closed(error)
          void terminate()
          return
        }
        // End of stream: the exit status (which arrives a moment later) says why.
        const wait = setTimeout(() => {
          sink.closed(exit ? whyExited(exit) : dropped ? error : new PolyplugError(ErrorCodes.PLUGIN_CRASHED, 'the plugin closed its channel', { plugin }))
          if (dropped && !exit) void terminate()
        }, EXIT_WAIT_MS)
        void exited.then((e) => {
          clearTimeout(wait)
          sink.closed(whyExited(e))
        })
      })
    },
    send: (message) => explained(inner.send(message)),
    ...(sendText ? { sendText: (text: string) => explained(sendText(text)) } : {}),
    close: (reason) => inner.close(reason),
  })
  const channel = deliverFrom(inner, supervised)

  async function terminate(): Promise<void> {
    killing = true
    if (exit) return
    signalGroup(child, 'SIGTERM')
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_GRACE_MS)
    await exited
    clearTimeout(timer)
  }

  return {
    channel,
    isolated: true,
    token,
    pid: child.pid,
    codec,
    protocol,
    async kill(reason) {
      killing = true
      await channel.close(reason)
      await terminate()
      await endpoint.dispose().catch(() => {})
      await cleaned // the private working directory is gone once kill resolves
    },
  }
}

/**
 * Signals the plugin's whole process group (it leads one: spawned detached), so its own children
 * get the signal too; the plugin alone where the group is already gone.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

/** The folder of a registered module (a file: URL or an absolute path), which its carrier must read. */
function moduleFolder(url: string): string {
  return dirname(url.startsWith('file:') ? fileURLToPath(url) : url)
}
