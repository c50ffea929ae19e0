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
    memoryMb: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Heap limit for worker placement, in MiB; for wasm, the cap on the module\'s linear memory (default 256).' }),
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

/**
 * What a plugin may touch beyond its own folder (docs/confinement.md says what is enforced where).
 * The full permissions model (network, host API scopes) extends this object; keep fields additive.
 * `process` is the grant to start child processes and workers.
 */
export const PermissionsSchema = Type.Object(
  {
    host: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Host API scopes the plugin may call.' })),
    fs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: Type.String({ minLength: 1, description: 'A path, relative to the plugin folder or absolute.' }),
            access: literals(['read', 'readwrite'] as const, 'read or readwrite'),
          },
          { additionalProperties: false },
        ),
        { description: 'File-system access, enforced where the runtime can: a wasm plugin sees exactly these as WASI preopens; a Node sidecar gets them as Node permission flags (docs/confinement.md).' },
      ),
    ),
    env: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Host environment variables passed to a sidecar.' })),
    network: Type.Optional(
      Type.Object(
        {
          connect: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Addresses the plugin may connect to ("*" for any).' })),
          listen: Type.Optional(Type.Boolean({ description: 'Whether the plugin may listen.' })),
        },
        { additionalProperties: false },
      ),
    ),
    process: Type.Optional(Type.Boolean({ description: 'Whether the plugin may start child processes and workers. Default false.' })),
  },
  { additionalProperties: false },
)

export type Permissions = Static<typeof PermissionsSchema>

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
    sidecar: Type.Optional(SidecarSchema),
    permissions: Type.Optional(PermissionsSchema),
    wasm: Type.Optional(WasmOptionsSchema),
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
