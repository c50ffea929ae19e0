/**
 * The public API is what package.json `exports` names, and each entry point's export list is
 * pinned here, values and types alike (read from the published .d.ts with the TypeScript
 * compiler): adding or removing a name fails this test until the list, and docs/api.md, say so.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import ts from 'typescript'
import { root } from './support/paths.js'

/** Each subpath: its value exports, then its type-only exports. */
const PINNED: Record<string, { values: string[]; types: string[] }> = {
  '.': {
    values: ['ErrorCodes', 'HOST_VERSION', 'Host', 'LATENCY_BUCKETS_MS', 'PolyplugError', 'createHost', 'errorLayer', 'isPolyplugError', 'pluginMetrics', 'registerKind', 'registerTransport', 'serveDashboard', 'silentLogger', 'stderrLogger'],
    types: [
      'AnyErrorCode', 'CallContext', 'CallOptions', 'CommandInfo', 'Dashboard', 'DashboardOptions', 'Disposable', 'ErrorCode', 'ErrorLayer', 'EventMeta', 'ForeignErrorData', 'GrantPolicy', 'HookKind', 'HookOptions', 'HookOrder',
      'HostApi', 'HostCallContext', 'HostLogger', 'HostOptions', 'InstallOptions', 'InstallResult', 'InvalidPlugin', 'LatencyHistogram', 'LogEntry', 'LogLevel', 'LogRecord', 'Manifest', 'MethodStats', 'PluginHandle',
      'PluginInfo', 'PluginMemory', 'PluginState', 'PluginStats', 'PluginStorage', 'PolyplugErrorOptions', 'Remote', 'RescanResult', 'RestartPolicyOptions', 'SandboxOptions', 'Settings',
    ],
  },
  './sdk': {
    values: ['ErrorCodes', 'PROTOCOL_VERSION', 'PolyplugError', 'definePlugin', 'eventListener', 'isPluginDefinition', 'isPolyplugError', 'servePlugin'],
    types: ['AnyErrorCode', 'CallContext', 'ErrorCode', 'EventListener', 'EventMeta', 'LogLevel', 'MethodContext', 'PluginContext', 'PluginDefinition', 'PluginLogger', 'Remote', 'ServeOptions'],
  },
  './rpc': {
    values: ['DEFAULT_MAX_DEPTH', 'DEFAULT_MAX_MESSAGE_BYTES', 'Peer', 'PolyplugError', 'Reserved', 'RpcErrorCodes', 'createMemoryPair', 'createProxy', 'errorFromWire', 'errorToWire', 'invokeWithContext', 'isPolyplugError', 'jsonCodec', 'msgpackCodec', 'normalizeChannel', 'toPolyplugError'],
    types: [
      'AnyErrorCode', 'CallContext', 'CallOptions', 'Carries', 'Channel', 'ChannelSink', 'Codec', 'CodecName', 'ForeignErrorData', 'Handler', 'MemoryPairOptions', 'Message', 'NotificationMessage', 'PeerOptions', 'PolyplugErrorOptions',
      'RawChannel', 'Remote', 'RequestId', 'RequestMessage', 'ResponseMessage', 'RpcErrorCode', 'StripContext', 'WireError',
    ],
  },
  './registry': {
    values: ['ErrorCodes', 'PolyplugError', 'kindNames', 'registerKind', 'registerTransport', 'transportNames'],
    types: [
      'ChildStreams', 'DialRequest', 'KindLoader', 'KindModule', 'KindNeed', 'LoadRequest', 'PlacementTraits', 'PluginSide', 'PluginSideContext', 'PoolHandle', 'PoolReplica', 'PoolRequest', 'PoolView', 'PortLike', 'Provision',
      'RemoteSide', 'ReplicaRequest', 'RunningReplica', 'ServeSessions', 'SidecarContext', 'SidecarEndpoint', 'SidecarSide', 'SidecarTransport', 'SyncBridge', 'SyncBridgeFactory', 'TransportModule', 'TransportNeed', 'WorkerLink', 'WorkerSide',
    ],
  },
  './manifest': {
    values: [
      'ACTIVATION_PATTERN', 'ActivationEventSchema', 'BuildSchema', 'CommandSchema', 'ContributesSchema', 'DEPENDENCY_VERSION_PATTERN', 'EventSubscriptionSchema', 'HookHandlerSchema', 'LimitsSchema', 'MANIFEST_FILE', 'ManifestError',
      'ManifestSchema', 'MethodSchema', 'NativeOptionsSchema', 'PLACEMENTS', 'PLUGIN_ID_PATTERN', 'PermissionsSchema', 'RemoteSchema', 'SidecarSchema', 'VERSION_PATTERN', 'WasmOptionsSchema', 'discoverPlugins', 'formatProblem', 'manifestSchema', 'readManifest',
      'remoteUrlPattern', 'validateManifest',
    ],
    types: [
      'CommandContribution', 'Contributes', 'Discovered', 'EventContribution', 'HookContribution', 'Kind', 'Limits', 'LoadedManifest', 'Manifest', 'ManifestInput', 'ManifestProblem', 'MethodDeclaration', 'Permissions', 'PlacementName',
      'Scale', 'TransportName',
    ],
  },
  './package': {
    values: ['PACKAGE_EXTENSION', 'PACKAGE_META', 'PACKAGE_SIGNATURE', 'generateSigningKeys', 'installPackage', 'keyId', 'packPlugin', 'uninstallPlugin'],
    types: ['InstallOptions', 'InstallResult', 'KeyInput', 'PackOptions', 'PackResult', 'PackageMeta', 'PackageSignature'],
  },
}

const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { exports: Record<string, string> }
const entries = Object.entries(pkg.exports).filter(([subpath]) => subpath !== './package.json')

/**
 * Every name each entry's .d.ts exports, split into values and type-only names. One program for
 * all entries, without the standard library or @types: listing exports needs no type checking.
 */
function declaredExports(files: string[]): Map<string, { values: string[]; types: string[] }> {
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, noLib: true, types: [], skipLibCheck: true })
  const checker = program.getTypeChecker()
  const out = new Map<string, { values: string[]; types: string[] }>()
  for (const file of files) {
    const source = program.getSourceFile(file)
    assert.ok(source, `${file} exists`)
    const module = checker.getSymbolAtLocation(source)
    assert.ok(module, `${file} is a module`)
    const values: string[] = []
    const types: string[] = []
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      ;(target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name)
    }
    out.set(file, { values: values.sort(), types: types.sort() })
  }
  return out
}

const dtsOf = (file: string) => `${root}${file.replace(/\.js$/, '.d.ts')}`

describe('the public API', () => {
  const declared = declaredExports(entries.map(([, file]) => dtsOf(file)))

  it('package.json exports exactly the pinned entry points', () => {
    assert.deepEqual(entries.map(([subpath]) => subpath).sort(), Object.keys(PINNED).sort())
  })

  for (const [subpath, file] of entries) {
    it(`${subpath === '.' ? 'polyplug' : `polyplug${subpath.slice(1)}`} exports exactly its pinned names`, async () => {
      const pinned = PINNED[subpath]!
      const runtime = Object.keys(await import(pathToFileURL(`${root}${file}`).href)).sort()
      assert.deepEqual(runtime, [...pinned.values].sort(), 'values at run time')
      const { values, types } = declared.get(dtsOf(file))!
      assert.deepEqual(values, [...pinned.values].sort(), 'values in the .d.ts')
      assert.deepEqual(types, [...pinned.types].sort(), 'types in the .d.ts')
    })
  }

  it('no TypeBox schema object is exported from polyplug itself (they live at polyplug/manifest)', async () => {
    const main = Object.keys(await import(pathToFileURL(`${root}dist/src/index.js`).href))
    assert.deepEqual(main.filter((name) => /Schema$|schema$/.test(name)), [])
  })

  it('docs/api.md names every entry point and every pinned export', () => {
    const docs = readFileSync(`${root}docs/api.md`, 'utf8')
    for (const [subpath, { values, types }] of Object.entries(PINNED)) {
      const heading = subpath === '.' ? '`polyplug`' : `\`polyplug${subpath.slice(1)}\``
      assert.ok(docs.includes(`## ${heading}`), `docs/api.md has a section ${heading}`)
      for (const name of [...values, ...types]) assert.match(docs, new RegExp('`' + name + '[`(<]'), `docs/api.md mentions ${name}`)
    }
  })
})
