/**
 * Trace context in the host. Every call carries the caller's W3C `traceparent` on to the plugin
 * (docs/protocol.md, trace context). When the optional peer `@opentelemetry/api` is installed,
 * the host also opens a span per plugin call and per activation, as a child of the caller's
 * `traceparent` (or of the application's active span), and sends the span's own context on; with
 * no OpenTelemetry SDK registered those spans are no-ops and the context passes through unchanged.
 */
import { createRequire } from 'node:module'
import type * as Otel from '@opentelemetry/api'

type OtelApi = typeof Otel

let api: OtelApi | null | undefined

/** Where `@opentelemetry/api` (major 1) keeps what an application registered: tracer provider, context manager. */
const OTEL_GLOBAL = Symbol.for('opentelemetry.js.api.1')

/**
 * True once an application registered an OpenTelemetry tracer provider. Until then every span
 * would be a no-op, so the host neither loads the API (which costs a start-up) nor makes a no-op
 * span per call: the caller's traceparent passes through as it would. Asked on each call, so an
 * SDK registered later is seen.
 */
export function tracingOn(): boolean {
  return (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL]?.trace !== undefined
}

// A key the global object lacks is searched for in its dictionary on every read (≈ 110
// instructions per call, callgrind); a key it has is read from its property cell, which compiled
// code reads at once. So the key is made to exist, undefined, until @opentelemetry/api sets it:
// the API assigns `globalThis[key] = globalThis[key] ?? { version }`, which an undefined,
// writable and configurable own property leaves working as if it were absent; `tracingOn` still
// reads the key on every call, so a tracer registered at any time is seen.
if (!Object.prototype.hasOwnProperty.call(globalThis, OTEL_GLOBAL) && Object.isExtensible(globalThis)) {
  Object.defineProperty(globalThis, OTEL_GLOBAL, { value: undefined, writable: true, configurable: true, enumerable: false })
}

function otel(): OtelApi | null {
  if (!tracingOn()) return null
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
    } catch {
      api = null
    }
  }
  return api
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The parts of a W3C `traceparent` (version 00 layout), or undefined when it is malformed. */
export function parseTraceparent(value: string | undefined): { traceId: string; spanId: string; flags: number } | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value)
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined
  return { traceId: m[2]!, spanId: m[3]!, flags: parseInt(m[4]!, 16) }
}

export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-${flags.toString(16).padStart(2, '0')}`
}

/**
 * Runs `work` inside a span named `name` (when OpenTelemetry is installed), handing it the
 * `traceparent` to send on: the span's, or the caller's when no span is recorded.
 */
export function traced<T>(name: string, attributes: Record<string, string>, traceparent: string | undefined, work: (traceparent: string | undefined) => Promise<T>): Promise<T> {
  const o = otel()
  if (!o) return work(traceparent)
  const remote = parseTraceparent(traceparent)
  const parent = remote
    ? o.trace.setSpanContext(o.context.active(), { traceId: remote.traceId, spanId: remote.spanId, traceFlags: remote.flags, isRemote: true })
    : o.context.active()
  const span = o.trace.getTracer('polyplug').startSpan(name, { kind: o.SpanKind.CLIENT, attributes }, parent)
  if (!span.isRecording()) {
    span.end()
    return work(traceparent)
  }
  const sc = span.spanContext()
  const next = formatTraceparent(sc.traceId, sc.spanId, sc.traceFlags)
  return o.context.with(o.trace.setSpan(parent, span), () => work(next)).then(
    (value) => {
      span.end()
      return value
    },
    (error: unknown) => {
      const e = error as { code?: string; message?: string }
      span.setStatus({ code: o.SpanStatusCode.ERROR, message: `${e.code ?? 'ERROR'}: ${e.message ?? String(error)}` })
      if (e.code !== undefined) span.setAttribute('polyplug.error_code', e.code)
      span.end()
      throw error
    },
  )
}
