/** The shapes of Node's module customization hooks (node:module `register`) that polyplug's hooks use. */
export interface ResolveContext {
  parentURL?: string
}

export interface ResolveResult {
  url: string
  format?: string | null
  shortCircuit?: boolean
}

export type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>

export interface LoadResult {
  format: string
  source?: string | ArrayBuffer | Uint8Array
  shortCircuit?: boolean
}
