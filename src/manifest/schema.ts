/**
 * The manifest's single source: TypeScript types and the published JSON Schema
 * (schema/polyplug.schema.json, checked by a test) both come from these definitions.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox'

export const KINDS = ['js', 'wasm', 'native', 'exec'] as const
export const PLACEMENTS = ['inline', 'worker', 'process', 'remote'] as const
export const TRANSPORTS = ['direct', 'port', 'stdio', 'fifo', 'unix', 'tcp', 'http', 'mqtt', 'shm'] as const

export type Kind = (typeof KINDS)[number]
export type PlacementName = (typeof PLACEMENTS)[number]
export type TransportName = (typeof TRANSPORTS)[number]

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
    memoryMb: Type.Optional(Type.Integer({ minimum: 1, description: 'Heap limit for worker placement, in MiB.' })),
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
  },
  { additionalProperties: false, description: 'How a process-placed plugin is started and spoken to.' },
)

export const RemoteSchema = Type.Object(
  {
    url: Type.String({
      pattern: '^(tcp|ws|wss|http|https|mqtt|mqtts)://',
      description: 'Where the running plugin is: tcp://host:port, http(s):// (calls by POST), ws(s):// (calls over the WebSocket), mqtt(s)://[user@]host:port.',
    }),
    tokenEnv: Type.Optional(Type.String({ minLength: 1, description: 'Environment variable of the host holding the plugin\'s token (preferred over `token`).' })),
    token: Type.Optional(Type.String({ minLength: 1, description: 'The plugin\'s token, inline (keep manifests with secrets private).' })),
    ca: Type.Optional(Type.String({ minLength: 1, description: 'PEM file (relative to the manifest) to trust for https/wss/mqtts, e.g. a self-signed certificate.' })),
    pingIntervalMs: Type.Optional(Type.Integer({ minimum: 100, description: 'Heartbeat interval; a plugin that misses one is reported gone. Default 5000.' })),
  },
  { additionalProperties: false, description: 'A plugin already running elsewhere (placement "remote").' },
)

export const ManifestSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String()),
    id: Type.String({
      pattern: '^[a-z0-9][a-z0-9._-]*$',
      maxLength: 214,
      description: 'Unique plugin id: lowercase letters, digits, ".", "_" and "-".',
    }),
    version: Type.String({
      pattern: '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$',
      description: 'Semantic version, e.g. 1.2.3.',
    }),
    description: Type.Optional(Type.String()),
    kind: literals(KINDS, 'What the plugin is: a JS module, a WASM module, a native library or an executable.'),
    entry: Type.String({ minLength: 1, description: 'Path of the module, library or executable, relative to the manifest.' }),
    placement: Type.Optional(literals(PLACEMENTS, 'Where the plugin runs. Defaults per kind.')),
    transport: Type.Optional(literals(TRANSPORTS, 'How messages move. Defaults per placement.')),
    limits: Type.Optional(LimitsSchema),
    remote: Type.Optional(RemoteSchema),
    sidecar: Type.Optional(SidecarSchema),
  },
  { additionalProperties: false, $id: 'https://polyplug.dev/schema/polyplug.schema.json', title: 'polyplug plugin manifest' },
)

export type ManifestInput = Static<typeof ManifestSchema>

/** A validated manifest with defaults applied. */
export interface Manifest extends ManifestInput {
  placement: PlacementName
  transport: TransportName
}

export const DEFAULT_PLACEMENT: Record<Kind, PlacementName> = {
  js: 'inline',
  wasm: 'worker',
  native: 'process',
  exec: 'process',
}

export const DEFAULT_TRANSPORT: Record<PlacementName, TransportName> = {
  inline: 'direct',
  worker: 'port',
  process: 'stdio',
  remote: 'tcp',
}

/** Which transports each placement can use (DESIGN.md). */
export const ALLOWED_TRANSPORTS: Record<PlacementName, readonly TransportName[]> = {
  inline: ['direct'],
  worker: ['port', 'shm'],
  process: ['stdio', 'fifo', 'unix', 'tcp', 'http', 'mqtt', 'shm'],
  remote: ['tcp', 'http', 'mqtt'],
}

export const ALLOWED_PLACEMENTS: Record<Kind, readonly PlacementName[]> = {
  js: ['inline', 'worker', 'process'],
  wasm: ['inline', 'worker', 'process'],
  native: ['inline', 'worker', 'process'],
  exec: ['process', 'remote'],
}
