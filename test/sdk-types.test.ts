/**
 * The SDK's types catch the traps a method signature can hide. These checks run when the tests are
 * compiled (`npm test` builds first): each `@ts-expect-error` fails the build if the error it
 * expects is not reported.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { definePlugin, eventListener, type EventMeta, type MethodContext } from '../src/sdk/index.js'

describe('definePlugin types', () => {
  it('accepts methods with fixed parameters, the context last', () => {
    const plugin = definePlugin({
      methods: {
        add: (a: number, b: number) => a + b,
        greet: (name: string, ctx: MethodContext) => `${name} from ${ctx.plugin.id}`,
        sum: (xs: number[]) => xs.reduce((n, x) => n + x, 0),
      },
    })
    assert.equal(plugin.methods.sum([1, 2, 3]), 6)
  })

  it('refuses a variadic method, whose rest parameter would receive the context too', () => {
    const plugin = definePlugin({
      methods: {
        // @ts-expect-error a rest parameter would collect the MethodContext as well (VariadicMethodError)
        sum: (...xs: number[]) => xs.reduce((n, x) => n + x, 0),
      },
    })
    assert.equal(typeof plugin.methods.sum, 'function')
  })

  it('types an event listener as delivered: the payload, its meta, then the context', () => {
    const seen: string[] = []
    const plugin = definePlugin({
      methods: {
        saved: eventListener<{ path: string }>((payload, meta, ctx) => {
          seen.push(`${payload.path} on ${meta.topic} from ${meta.from ?? 'the app'} in ${ctx.plugin.id}`)
        }),
        // @ts-expect-error written (payload, ctx): the second argument is the EventMeta, which has no signal
        opened: eventListener((_payload, ctx: MethodContext) => ctx.signal.aborted),
      },
    })
    const meta: EventMeta = { topic: 'file.saved' }
    plugin.methods.saved({ path: 'a.txt' }, meta, { plugin: { id: 'p' } } as MethodContext)
    assert.deepEqual(seen, ['a.txt on file.saved from the app in p'])
  })
})
