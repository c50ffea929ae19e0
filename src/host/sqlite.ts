/**
 * The SQLite behind the host's state: Node's own `node:sqlite` where it is built in without a flag
 * (Node >= 22.13), else better-sqlite3, an optional package for Node 20 (it compiles from source
 * when no prebuilt binary fits: docs/architecture.md, "Dependencies"). Both offer the same small
 * synchronous surface used here.
 */
import { createRequire } from 'node:module'
import { requireOptional } from '../deps/optional.js'

export interface SqliteStatement {
  all(...params: unknown[]): unknown[]
  get(...params: unknown[]): unknown
  run(...params: unknown[]): unknown
}

export interface SqliteDatabase {
  exec(sql: string): void
  prepare(sql: string): SqliteStatement
  close(): void
}

type Open = (path: string) => SqliteDatabase

/** node:sqlite, without the one-time ExperimentalWarning it prints on load (it is polyplug's choice, not the app's). */
function builtIn(): Open | undefined {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 13)) return undefined
  const emitWarning = process.emitWarning
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message
    if (!/SQLite/.test(text)) (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest)
  }) as typeof process.emitWarning
  try {
    const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite') as { DatabaseSync: new (path: string) => SqliteDatabase }
    return (path) => new DatabaseSync(path)
  } finally {
    process.emitWarning = emitWarning
  }
}

let open: Open | undefined

export function openSqlite(path: string): SqliteDatabase {
  open ??=
    builtIn() ??
    ((Database) => (file: string) => new Database(file))(
      requireOptional<new (path: string) => SqliteDatabase>('better-sqlite3', 'The host\'s state store on Node < 22.13 (node:sqlite is built in from 22.13)'),
    )
  return open(path)
}
