/**
 * The manifest's single source: TypeScript types and the published JSON Schema
 * (schema/polyplug.schema.json, checked by a test) both come from these definitions. The `kind`
 * and `transport` choices and the remote url schemes come from the registry (src/registry/), so
 * a transport or kind an application registers is accepted: `manifestSchema()` builds the schema
 * for the registry as it is now.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox'
import { kindNames, remoteSchemes, transportNames } from '../registry/index.js'
import { ACTIVATION_PATTERN, DEPENDENCY_VERSION_PATTERN, PLUGIN_ID_PATTERN, remoteUrlPattern, VERSION_PATTERN } from './patterns.js'

export { ACTIVATION_PATTERN, DEPENDENCY_VERSION_PATTERN, PLUGIN_ID_PATTERN, remoteUrlPattern, VERSION_PATTERN }

export const PLACEMENTS = ['inline', 'worker', 'process', 'remote'] as const

/** A kind's name (the built-ins: js, wasm, native, exec; src/kinds/*-module.ts). */
export type Kind = string
export type PlacementName = (typeof PLACEMENTS)[number]
/** A transport's name (the built-ins in src/transports/modules.ts). */
export type TransportName = string

const literals = <T extends readonly string[]>(values: T, description: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { description },
  ) as unknown as TUnion<TLiteral<T[number]>[]>

export const LimitsSchema = Type.Object(
  {
    callTimeoutMs: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Default deadline for one call, in ms; 0 disables. Default 30000.' }),
    ),
    memoryMb: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Heap limit for worker placement, in MiB; for wasm, the cap on the module\'s linear memory (default 256).' }),
    ),
    startTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: 'Deadline for the handshake plus `activate`, in ms. Default: the host\'s.' })),
    storageBytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Quota for the plugin\'s key-value storage (keys plus JSON values), in bytes. Default 1 MiB.' })),
  },
  { additionalProperties: false },
)

const semverRange = (description: string) => Type.String({ minLength: 1, description })
const name = (description: string) => Type.String({ minLength: 1, description })

export const ActivationEventSchema = Type.String({
  pattern: ACTIVATION_PATTERN,
  description: 'When the plugin starts: onStartup, onDependent, onCommand:<id>, onMethod:<name>, onHook:<name>, onEvent:<topic>.',
})

export const CommandSchema = Type.Object(
  {
    id: name('Command id, unique across plugins, e.g. "fmt.formatDocument".'),
    method: Type.Optional(name('The plugin method that runs the command. Default: the command id.')),
    title: Type.Optional(Type.String({ description: 'Human-readable title.' })),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)

export const HookHandlerSchema = Type.Object(
  {
    hook: name('The hook (declared by the application) this handler joins.'),
    method: name('The plugin method that handles it.'),
    order: Type.Optional(literals(['pre', 'normal', 'post'] as const, 'Where the handler runs among the hook\'s handlers. Default "normal".')),
  },
  { additionalProperties: false },
)

export const EventSubscriptionSchema = Type.Object(
  {
    topic: name('The event topic.'),
    method: name('The plugin method that receives each event payload.'),
  },
  { additionalProperties: false },
)

/** A JSON Schema (draft 2020-12 / draft-07 keywords; Ajv checks it), kept as it is written. */
const JsonSchema = (description: string) => Type.Object({}, { additionalProperties: true, description })

/** A method declared with its signature: what `polyplug types` emits and `validateParams` checks. */
export const MethodSchema = Type.Object(
  {
    name: name('The method name.'),
    description: Type.Optional(Type.String({ description: 'What the method does (a doc comment in the emitted .d.ts).' })),
    params: Type.Optional(
      Type.Array(JsonSchema('The JSON Schema of one positional argument; its `title` names the argument, and `"optional": true` lets a caller leave it out (trailing arguments only).'), {
        description: 'JSON Schema of each positional argument, in order.',
      }),
    ),
    result: Type.Optional(JsonSchema('The JSON Schema of what the method returns. Default: unknown.')),
  },
  { additionalProperties: false },
)

export const ContributesSchema = Type.Object(
  {
    commands: Type.Optional(Type.Array(CommandSchema, { description: 'Commands the application can run with host.commands.execute(id).' })),
    methods: Type.Optional(
      Type.Array(Type.Union([name('method name'), MethodSchema]), {
        description: 'Methods the plugin exports, listed without running its code: a name, or { name, params, result } with JSON Schemas (docs/manifest.md "Typed methods").',
      }),
    ),
    $defs: Type.Optional(
      Type.Record(Type.String(), JsonSchema('A named JSON Schema.'), {
        description: 'Named JSON Schemas the methods\' params and results share: `{"$ref": "#/$defs/NAME"}` refers to one; `polyplug types` emits each as an exported type.',
      }),
    ),
    hooks: Type.Optional(Type.Array(HookHandlerSchema, { description: 'Handlers for hooks the application declares.' })),
    events: Type.Optional(Type.Array(EventSubscriptionSchema, { description: 'Event topics the plugin listens to (each implies onEvent:<topic>).' })),
    configuration: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.Object({}, { additionalProperties: true }), {
        description: 'Settings: each key is a setting name, each value a JSON Schema for it (its `default` is applied).',
      }),
    ),
  },
  { additionalProperties: false },
)

export const PermissionsSchema = Type.Object(
  {
    host: Type.Optional(
      Type.Array(name('scope'), {
        description: 'Host API scopes: storage, commands.execute, events.publish:<topic>, events.subscribe, plugins.call:<id>, config.write, api:<name>; "*" suffix wildcards.',
      }),
    ),
    fs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: name('A path, relative to the plugin folder or absolute.'),
            access: literals(['read', 'readwrite'] as const, 'read or readwrite'),
          },
          { additionalProperties: false },
        ),
        { description: 'File-system access, enforced where the runtime can: a wasm plugin sees exactly these as WASI preopens; a Node sidecar gets them as Node permission flags (docs/confinement.md).' },
      ),
    ),
    env: Type.Optional(Type.Array(name('variable'), { description: 'Environment variables passed to the plugin.' })),
    network: Type.Optional(
      Type.Object(
        {
          connect: Type.Optional(Type.Array(name('host:port'), { description: 'Addresses the plugin may connect to ("*" for any).' })),
          listen: Type.Optional(Type.Boolean({ description: 'Whether the plugin may listen.' })),
        },
        { additionalProperties: false },
      ),
    ),
    process: Type.Optional(
      Type.Boolean({ description: 'Whether a Node sidecar may start child processes and workers (Node permission model).' }),
    ),
  },
  { additionalProperties: false },
)

/** Options of `wasm` plugins. */
export const WasmOptionsSchema = Type.Object(
  {
    abi: Type.Optional(
      Type.Union([Type.Literal('polyplug'), Type.Literal('extism')], {
        description: 'The module\'s ABI: polyplug (docs/wasm-abi.md, default) or extism (a module built with an Extism PDK).',
      }),
    ),
    output: Type.Optional(
      Type.Union([Type.Literal('text'), Type.Literal('json'), Type.Literal('bytes')], {
        description: 'Extism only: how a function\'s output bytes are returned (default text).',
      }),
    ),
  },
  { additionalProperties: false },
)

/** Options of `native` plugins. */
export const NativeOptionsSchema = Type.Object(
  {
    workerCalls: Type.Optional(
      literals(
        ['proven', 'pool', 'thread'] as const,
        'In a worker: where a call runs. proven (default): a method whose calls proved short (8 in a row under 2 ms) runs on the worker\'s own thread, the rest on the libuv pool; pool: every call on the pool (a method that is sometimes long never holds up the others); thread: every call on the worker\'s thread (one call at a time). The host\'s POLYPLUG_NATIVE_SYNC (never/always) overrides it.',
      ),
    ),
  },
  { additionalProperties: false },
)

export const SidecarSchema = Type.Object(
  {
    command: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'argv that starts an exec plugin, run in the plugin folder, e.g. ["python3", "plugin.py"]. Default: the entry itself.',
      }),
    ),
    encoding: Type.Optional(literals(['json', 'msgpack'] as const, 'Message encoding on the wire (POLYPLUG_ENCODING). Default json.')),
    framing: Type.Optional(literals(['length', 'content-length', 'ndjson'] as const, 'How messages are cut from the byte stream (POLYPLUG_FRAMING). Default length.')),
    protocol: Type.Optional(
      literals(['polyplug', 'lsp'] as const, 'polyplug (default): $/hello, token, $/activate. lsp: an existing language server, no handshake; stop sends shutdown + exit. Default framing content-length.'),
    ),
  },
  { additionalProperties: false, description: 'How a process-placed plugin is started and spoken to.' },
)

export const BuildSchema = Type.Object(
  {
    command: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'argv that builds the plugin, run in its folder, e.g. ["cargo", "build", "--release"]. Run by `polyplug check` and `polyplug dev`, never by the host.',
    }),
    inputs: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), { description: 'Source files or folders (relative to the manifest); the build is stale when one is newer than an output. Default: everything but the outputs.' }),
    ),
    outputs: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'What the build writes (relative to the manifest). Default: the entry.' })),
  },
  { additionalProperties: false, description: 'How to build a plugin that needs compiling.' },
)

const remoteSchema = (schemes: readonly string[]) => Type.Object(
  {
    url: Type.String({
      pattern: remoteUrlPattern(schemes),
      description:
        'Where the running plugin is: tcp://host:port, http(s):// (calls by POST), ws(s):// (calls over the WebSocket), mqtt(s)://[user@]host:port. The manifest\'s transport defaults to the scheme\'s; for an http server, "transport": "ws" or "http" chooses how calls go.',
    }),
    tokenEnv: Type.Optional(Type.String({ minLength: 1, description: 'Environment variable of the host holding the plugin\'s token (preferred over `token`).' })),
    token: Type.Optional(Type.String({ minLength: 1, description: 'The plugin\'s token, inline (keep manifests with secrets private).' })),
    ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file (relative to the manifest) to trust for https/wss/mqtts, e.g. a self-signed certificate.' })),
    pingIntervalMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Heartbeat interval; a plugin that misses one is reported gone. Default 5000.' })),
  },
  { additionalProperties: false, description: 'A plugin already running elsewhere (placement "remote").' },
)

const ScaleSchema = Type.Object(
  {
    group: Type.Optional(Type.String({ pattern: '^[a-zA-Z0-9_-]+$', description: 'Shared-subscription group the replicas join. Default `polyplug-<id>`: one pool per plugin id.' })),
    idempotent: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        uniqueItems: true,
        description: 'Methods safe to run twice: retried on another replica when theirs dies or the broker restarts. Any other method runs at most once: it fails with PLUGIN_CRASHED when its replica dies, and with TRANSPORT_UNAVAILABLE when the broker restarts after it was granted.',
      }),
    ),
    graceMs: Type.Optional(Type.Integer({ minimum: 100, description: 'How long a replica reported dead may take to say it is alive again (a broker restart) before its calls fail over. Default 1500.' })),
  },
  { additionalProperties: false, description: 'Placement "remote" on a pool of replicas (`polyplug serve`) sharing one broker subscription (docs/scale-out.md).' },
)

/** The manifest schema for the registry as it is now (built-ins plus what the application registered). */
export const manifestSchema = () => Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    id: Type.String({
      pattern: PLUGIN_ID_PATTERN,
      maxLength: 214,
      description: 'Unique plugin id: lowercase letters, digits, ".", "_" and "-". Ids starting with "polyplug-" are reserved.',
    }),
    version: Type.String({
      pattern: VERSION_PATTERN,
      description: 'Semantic version, e.g. 1.2.3.',
    }),
    description: Type.Optional(Type.String()),
    kind: literals(kindNames(), 'What the plugin is: a JS module, a WASM module, a native library or an executable (or a kind the application registered).'),
    entry: Type.String({ minLength: 1, description: 'Path of the module, library or executable, relative to the manifest.' }),
    placement: Type.Optional(literals(PLACEMENTS, 'Where the plugin runs. Defaults per kind.')),
    transport: Type.Optional(literals(transportNames(), 'How messages move. Defaults per placement.')),
    transportOptions: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Options for the transport (read by the transport; see its docs).' })),
    engines: Type.Optional(
      Type.Object(
        { polyplug: Type.Optional(semverRange('The host API versions the plugin works with, as a semver range, e.g. "^0.1.0".')) },
        { additionalProperties: false },
      ),
    ),
    activation: Type.Optional(Type.Array(ActivationEventSchema, { description: 'Events that start the plugin. Contributions imply their own.' })),
    contributes: Type.Optional(ContributesSchema),
    dependencies: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), semverRange('semver range'), {
        description: 'Plugins (by id) or provided APIs (by name) this plugin needs, each with a semver range. They activate first.',
      }),
    ),
    provides: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: DEPENDENCY_VERSION_PATTERN }), {
        description: 'Named APIs this plugin implements, each with its semver version; dependants may depend on the name.',
      }),
    ),
    permissions: Type.Optional(PermissionsSchema),
    limits: Type.Optional(LimitsSchema),
    remote: Type.Optional(remoteSchema(remoteSchemes())),
    scale: Type.Optional(ScaleSchema),
    sidecar: Type.Optional(SidecarSchema),
    wasm: Type.Optional(WasmOptionsSchema),
    native: Type.Optional(NativeOptionsSchema),
    build: Type.Optional(BuildSchema),
    validateParams: Type.Optional(
      Type.Boolean({ description: 'When true, the host checks every call\'s arguments against the `params` schemas of contributes.methods and refuses a mismatch with INVALID_PARAMS. Default false.' }),
    ),
  },
  { additionalProperties: false, $id: 'https://polyplug.dev/schema/polyplug.schema.json', title: 'polyplug plugin manifest' },
)

/** The schema of polyplug's own kinds and transports (as published in schema/polyplug.schema.json). */
export const ManifestSchema = manifestSchema()
export const RemoteSchema = remoteSchema(remoteSchemes())

export type ManifestInput = Static<ReturnType<typeof manifestSchema>>
export type CommandContribution = Static<typeof CommandSchema>
export type HookContribution = Static<typeof HookHandlerSchema>
export type EventContribution = Static<typeof EventSubscriptionSchema>
export type Contributes = Static<typeof ContributesSchema>
export type Permissions = Static<typeof PermissionsSchema>
export type Limits = Static<typeof LimitsSchema>
export type MethodDeclaration = Static<typeof MethodSchema>
export type Scale = Static<typeof ScaleSchema>

/** A validated manifest with defaults applied. */
export interface Manifest extends ManifestInput {
  placement: PlacementName
  transport: TransportName
}
