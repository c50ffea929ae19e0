/**
 * Which file a worker or process carrier starts from. `npm run build` bundles each carrier with the
 * modules it imports (scripts/bundle-carriers.mjs → dist/src/carriers/): a fresh worker isolate or
 * node process then resolves, reads and compiles one file instead of the ~25–35 modules of the RPC
 * serving graph, which Node's module loader pays for one by one. The kinds and transports stay
 * chunks of their own, loaded on demand. Where the bundle is missing (running from src under a
 * TypeScript loader, a build without it), or POLYPLUG_CARRIER_BUNDLE=off, the carrier's own module is used.
 */
import { existsSync } from 'node:fs'

export type CarrierName = 'worker-carrier' | 'process-carrier'

/** Set to `off` to start carriers from their modules instead of the bundle (to compare the two, or to debug). */
export const CARRIER_BUNDLE_ENV = 'POLYPLUG_CARRIER_BUNDLE'

/** The bundled build's folder, beside this file's own folder (dist/src/carriers for dist/src/placement). */
const bundleDir = new URL('../carriers/', import.meta.url)

export interface CarrierChoice {
  /** The plugin's kind has it import `polyplug/sdk` itself (KindModule.importsSdk). */
  importsSdk?: boolean
  /** Where the carriers' modules are (this folder) and the bundle's folder; the environment. */
  base?: URL
  bundles?: URL
  env?: NodeJS.ProcessEnv
}

/**
 * The carrier `name` to start: its bundle when there is one and it is not switched off, else its
 * module beside `base`. A plugin that imports `polyplug/sdk` itself (a js plugin) loads the package's
 * RPC modules anyway: its carrier runs from those same modules, not from a second copy in the bundle
 * (measured: the bundle made a js worker's first call no faster and its isolate 1.4 MiB larger) —
 * in a worker from the file built around them (`sdkBundle`), in a process from its module.
 */
export function carrierFile(name: CarrierName, choice: CarrierChoice = {}): URL {
  const { importsSdk = false, base = new URL('./', import.meta.url), bundles = bundleDir, env = process.env } = choice
  const file = importsSdk ? sdkBundle[name] : name
  const bundled = file && env[CARRIER_BUNDLE_ENV] !== 'off' ? new URL(`${file}.js`, bundles) : undefined
  return bundled && existsSync(bundled) ? bundled : new URL(`${name}.js`, base)
}

/**
 * The carriers built for kinds whose plugins import `polyplug/sdk`: the carrier's own modules in one
 * file, the SDK's modules left as the package's files the plugin shares (scripts/bundle-carriers.mjs,
 * sdkWorkerCarrier). A js worker then reads one file beside the SDK's instead of a dozen.
 */
const sdkBundle: Partial<Record<CarrierName, string>> = { 'worker-carrier': 'sdk-worker-carrier' }
