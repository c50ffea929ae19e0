/** Shapes of the reserved lifecycle messages (normative text: docs/protocol.md). */
import type { CodecName } from '../rpc/codec.js'
import type { LogLevel } from './define.js'

export const PROTOCOL_VERSION = 1

export interface HelloParams {
  /** Protocol versions the host speaks. */
  protocol: number[]
  /** The plugin id the host expects. */
  plugin: string
  host: { name: 'polyplug'; version: string; pid?: number }
  encodings: CodecName[]
  /** Optional protocol features the host offers; `"binary"`: bytes as attachments, §4.1 of docs/protocol.md. */
  capabilities?: string[]
}

export interface HelloResult {
  protocol: number
  id: string
  /** Methods the plugin exports. */
  methods: string[]
  encodings: CodecName[]
  /** Optional protocol features the plugin speaks; `"streams"`: §7.1 of docs/protocol.md; `"binary"` (only when the host offered it): §4.1. */
  capabilities?: string[]
  /** The launch's POLYPLUG_TOKEN, echoed back so the host knows it launched this peer. */
  token?: string
}

export interface ActivateParams {
  config?: Record<string, unknown>
  reason?: string
  /** On a reload: the snapshot the previous instance's `deactivate` returned. */
  state?: unknown
  /** The least severe level the host logs (PluginContext.logLevel). */
  logLevel?: LogLevel
}

export interface LogParams {
  level: LogLevel
  message: string
}

/** The answer to `$/usage` (Reserved.usage). */
export interface UsageResult {
  heapBytes?: number
  linearMemoryBytes?: number
}
