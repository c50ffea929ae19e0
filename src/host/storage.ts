/**
 * The host's durable state in SQLite (WAL mode): which plugins are disabled, and each plugin's
 * key-value storage (Chrome's `storage.local`, VS Code's `globalState`) with a per-plugin quota.
 * Every write is its own transaction, so a host killed mid-write loses at most that write.
 */
import { openSqlite, type SqliteDatabase, type SqliteStatement } from './sqlite.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

export const DEFAULT_STORAGE_QUOTA = 1024 * 1024

export class StateStore {
  readonly #db: SqliteDatabase
  readonly #stmts: Record<'disabled' | 'setEnabled' | 'get' | 'set' | 'delete' | 'keys' | 'usage', SqliteStatement>
  #open = true

  /** `path` of the database file; `:memory:` keeps state only for this host's lifetime. */
  constructor(path: string) {
    this.#db = openSqlite(path)
    this.#db.exec('PRAGMA journal_mode = WAL')
    // NORMAL in WAL mode: a killed process loses nothing committed; a power cut may lose the last commits, never corrupts.
    this.#db.exec('PRAGMA synchronous = NORMAL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS plugin_state (id TEXT PRIMARY KEY, enabled INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS kv (plugin TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (plugin, key)) WITHOUT ROWID;
    `)
    this.#stmts = {
      disabled: this.#db.prepare('SELECT id FROM plugin_state WHERE enabled = 0'),
      setEnabled: this.#db.prepare('INSERT INTO plugin_state (id, enabled) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled'),
      get: this.#db.prepare('SELECT value FROM kv WHERE plugin = ? AND key = ?'),
      set: this.#db.prepare('INSERT INTO kv (plugin, key, value) VALUES (?, ?, ?) ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value'),
      delete: this.#db.prepare('DELETE FROM kv WHERE plugin = ? AND key = ?'),
      keys: this.#db.prepare('SELECT key FROM kv WHERE plugin = ? ORDER BY key'),
      usage: this.#db.prepare('SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0) AS bytes FROM kv WHERE plugin = ? AND key <> ?'),
    }
  }

  disabledPlugins(): Set<string> {
    return new Set((this.#stmts.disabled.all() as { id: string }[]).map((r) => r.id))
  }

  setEnabled(id: string, enabled: boolean): void {
    this.#stmts.setEnabled.run(id, enabled ? 1 : 0)
  }

  get(plugin: string, key: string): unknown {
    const row = this.#stmts.get.get(plugin, key) as { value: string } | undefined
    return row === undefined ? undefined : (JSON.parse(row.value) as unknown)
  }

  /** Stores a JSON value; refuses with STORAGE_QUOTA_EXCEEDED past `quota` bytes (keys plus values). */
  set(plugin: string, key: string, value: unknown, quota = DEFAULT_STORAGE_QUOTA): void {
    if (value === undefined) return this.delete(plugin, key)
    const text = JSON.stringify(value)
    const size = Buffer.byteLength(key) + Buffer.byteLength(text)
    const others = (this.#stmts.usage.get(plugin, key) as { bytes: number } | undefined)?.bytes ?? 0
    if (others + size > quota) {
      throw new PolyplugError(ErrorCodes.STORAGE_QUOTA_EXCEEDED, `plugin "${plugin}" storage would hold ${others + size} bytes; its quota is ${quota}`, {
        plugin,
        data: { quota, wanted: others + size },
      })
    }
    this.#stmts.set.run(plugin, key, text)
  }

  delete(plugin: string, key: string): void {
    this.#stmts.delete.run(plugin, key)
  }

  keys(plugin: string): string[] {
    return (this.#stmts.keys.all(plugin) as { key: string }[]).map((r) => r.key)
  }

  close(): void {
    if (this.#open) this.#db.close()
    this.#open = false
  }
}

/** The application's view of one plugin's key-value storage. */
export interface PluginStorage {
  get<T = unknown>(key: string): T | undefined
  set(key: string, value: unknown): void
  delete(key: string): void
  keys(): string[]
}

/** One plugin's storage in `store` (opened on first use), held to `quota` bytes. */
export function pluginStorage(store: () => StateStore, plugin: string, quota: number): PluginStorage {
  return {
    get: <T>(key: string) => store().get(plugin, key) as T | undefined,
    set: (key, value) => store().set(plugin, key, value, quota),
    delete: (key) => store().delete(plugin, key),
    keys: () => store().keys(plugin),
  }
}
