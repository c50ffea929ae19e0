/** The methods a manifest declares in `contributes.methods`, each as `{ name, params?, result? }` (a bare name is `{ name }`). */
import type { Manifest, MethodDeclaration } from './schema.js'

export type { MethodDeclaration }

export function declaredMethods(manifest: Pick<Manifest, 'contributes'>): MethodDeclaration[] {
  return (manifest.contributes?.methods ?? []).map((m) => (typeof m === 'string' ? { name: m } : m))
}

/** What an argument is called in messages and in the emitted .d.ts: its schema's `title`, else `argN`. */
export function paramName(schema: Record<string, unknown>, index: number): string {
  const title = schema.title
  return typeof title === 'string' && /^[A-Za-z_$][\w$]*$/.test(title) ? title : `arg${index}`
}
