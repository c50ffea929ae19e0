/**
 * Per-plugin settings: the application's values merged over the defaults of the plugin's
 * contributed configuration, validated against the JSON Schema of each setting. Schemas compile
 * on first use, so discovering a thousand plugins compiles none.
 */
import { createRequire } from 'node:module'
import type { Ajv, ValidateFunction } from 'ajv'
import type { Manifest } from '../manifest/schema.js'
import { PolyplugError } from '../rpc/errors.js'
import { ErrorCodes } from '../errors/index.js'

let ajv: Ajv | undefined
/** Ajv loads on first use: a plugin without settings never needs it. */
function settingsAjv(): Ajv {
  ajv ??= new (createRequire(import.meta.url)('ajv') as typeof import('ajv')).Ajv({ allErrors: true, strict: false, useDefaults: true })
  return ajv
}

export type Settings = Record<string, unknown>

export class PluginConfig {
  #validate: ValidateFunction | undefined
  #values: Settings | undefined

  constructor(
    readonly plugin: string,
    readonly manifest: Manifest,
    private supplied: Settings = {},
  ) {}

  /** The validated settings with defaults applied; CONFIG_INVALID if the supplied values do not fit. */
  get(): Settings {
    this.#values ??= this.#check(this.supplied)
    return this.#values
  }

  /** Replaces the supplied settings (merged over the previous ones); the old values stay if the new ones are refused. */
  set(values: Settings): Settings {
    const next = this.#check({ ...this.supplied, ...values })
    this.supplied = { ...this.supplied, ...values }
    this.#values = next
    return next
  }

  #check(values: Settings): Settings {
    const properties = this.manifest.contributes?.configuration ?? {}
    // No settings declared and none supplied: nothing to check (the schema would accept exactly {}).
    if (Object.keys(properties).length === 0 && Object.keys(values).length === 0) return {}
    this.#validate ??= settingsAjv().compile({ type: 'object', properties, additionalProperties: false })
    const copy = structuredClone(values)
    if (!this.#validate(copy)) {
      const problems = (this.#validate.errors ?? []).map((e) => `${e.instancePath || '(settings)'} ${e.message ?? ''}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : ''}`)
      throw new PolyplugError(ErrorCodes.CONFIG_INVALID, `settings for plugin "${this.plugin}" are invalid: ${problems.join('; ')}`, { plugin: this.plugin, data: { problems: this.#validate.errors } })
    }
    return copy
  }
}
