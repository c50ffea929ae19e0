import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { createHost, type Host } from '../src/host/host.js'
import type { HostCallContext } from '../src/host/host-api.js'
import { parseTraceparent } from '../src/host/tracing.js'
import { examplesDir, fixturesDir } from './support/paths.js'
import { requires, tools } from './support/requires.js'

const plugins = [`${fixturesDir}/trace`]
const newTraceparent = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`
const traceId = (traceparent: unknown) => parseTraceparent(typeof traceparent === 'string' ? traceparent : undefined)?.traceId

describe('trace context through the kits: each passes the caller\'s traceparent on with its host calls', () => {
  let host: Host
  before(async () => {
    host = await createHost({
      plugins: [`${examplesDir}/c-stdio`, `${examplesDir}/rust-stdio`, `${examplesDir}/python-stdio`],
      api: { traceOf: (ctx: HostCallContext) => ctx.traceparent ?? null },
      publicApi: ['traceOf'],
      logger: () => {},
    })
  })
  after(() => host.close())

  for (const [id, needed] of [['c-stdio', [tools.gcc, tools.jansson]], ['rust-stdio', [tools.cargo, tools.serdeJson]], ['python-stdio', [tools.python3]]] as const) {
    it(`${id}: application -> plugin -> host API`, { skip: requires(...needed) }, async () => {
      const sent = newTraceparent()
      assert.equal(await host.plugin(id).call('callHost', ['host/traceOf', []], { traceparent: sent }), sent)
      assert.equal(await host.plugin(id).call('callHost', ['host/traceOf', []]), null, 'and none when the call had none')
    })
  }
})

// These run first, before any OpenTelemetry SDK is registered: the host records no spans and passes the context through as it came.
describe('trace context: the caller\'s traceparent reaches the second plugin unchanged', () => {
  let host: Host
  before(async () => {
    host = await createHost({ plugins, logger: () => {} })
  })
  after(() => host.close())

  it('application -> worker plugin -> host/plugins.call -> process plugin', async () => {
    const sent = newTraceparent()
    const seen = await host.plugin('trace-worker').call('relay', ['trace-process', 'seen'], { traceparent: sent })
    assert.equal(seen, sent)
  })

  it('application -> process plugin -> host/plugins.call -> worker plugin', async () => {
    const sent = newTraceparent()
    assert.equal(await host.plugin('trace-process').call('relay', ['trace-worker', 'seen'], { traceparent: sent }), sent)
  })

  it('through the Python kit: application -> python plugin -> host/plugins.call -> worker plugin', { skip: requires(tools.python3) }, async () => {
    const sent = newTraceparent()
    assert.equal(await host.plugin('trace-python').call('relay', ['trace-worker', 'seen'], { traceparent: sent }), sent)
  })

  it('a call without a traceparent sends none', async () => {
    assert.equal(await host.plugin('trace-worker').call('relay', ['trace-process', 'seen']), null)
  })
})

describe('trace context with OpenTelemetry: the host makes spans for calls and activations, one trace end to end', () => {
  const exporter = new InMemorySpanExporter()
  let host: Host
  before(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
    host = await createHost({ plugins, logger: () => {} })
  })
  after(() => host.close())

  it('the application\'s active span is the root; each plugin call is a child of the call that caused it', async () => {
    exporter.reset()
    const tracer = trace.getTracer('test-app')
    const { seen, appSpan } = await tracer.startActiveSpan('app request', async (span) => {
      const result = await host.plugin('trace-worker').call('relay', ['trace-process', 'seen'])
      span.end()
      return { seen: result, appSpan: span.spanContext() }
    })
    const spans = exporter.getFinishedSpans()
    const byName = (name: string) => spans.find((s) => s.name === name)
    const first = byName('polyplug.call trace-worker/relay')
    const second = byName('polyplug.call trace-process/seen')
    assert.ok(first && second, `spans: ${spans.map((s) => s.name).join(', ')}`)
    for (const s of spans) assert.equal(s.spanContext().traceId, appSpan.traceId, `${s.name} is in the application's trace`)
    assert.equal(first.parentSpanContext?.spanId, appSpan.spanId)
    assert.equal(second.parentSpanContext?.spanId, first.spanContext().spanId)
    // The second plugin was handed the context of the host's span for its call.
    assert.equal(traceId(seen), appSpan.traceId)
    assert.equal(parseTraceparent(seen as string)?.spanId, second.spanContext().spanId)
    assert.ok(byName('polyplug.activate trace-worker') && byName('polyplug.activate trace-process'), 'activations are spans too')
  })

  it('a failed call ends its span with an error status and the error code', async () => {
    exporter.reset()
    await assert.rejects(host.plugin('trace-worker').call('relay', ['trace-process', 'nope']))
    const failed = exporter.getFinishedSpans().find((s) => s.name === 'polyplug.call trace-process/nope')
    assert.equal(failed?.status.code, 2) // SpanStatusCode.ERROR
    assert.equal(failed?.attributes['polyplug.error_code'], 'METHOD_NOT_FOUND')
  })
})
