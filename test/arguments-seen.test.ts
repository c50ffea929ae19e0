/**
 * How many arguments a plugin's method can read (src/sdk/arguments-seen.ts): the direct lane makes
 * no context for a call whose context would land past them. Only simple parameters of a function
 * that cannot read more count; every other way to reach an argument reads as "all of them".
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { argumentsSeen } from '../src/sdk/arguments-seen.js'

/* eslint-disable prefer-rest-params */
describe('argumentsSeen: the arguments a method can read', () => {
  it('counts the simple parameters of arrows, methods, async and generator methods', () => {
    const methods = {
      echo(value: unknown) {
        return value
      },
      async later(value: unknown) {
        return value
      },
      *items(n: number) {
        yield n
      },
    }
    assert.equal(argumentsSeen(methods.echo), 1)
    assert.equal(argumentsSeen(methods.later), 1)
    assert.equal(argumentsSeen(methods.items), 1)
    assert.equal(argumentsSeen((a: number, b: number) => a + b), 2)
    assert.equal(argumentsSeen(() => 1), 0)
    assert.equal(argumentsSeen(async (a: number) => a), 1)
  })

  it('reads a parameter with a default, a rest or a destructured parameter as all of them', () => {
    assert.equal(argumentsSeen((a: number, ctx: unknown = undefined) => ctx), Infinity)
    assert.equal(argumentsSeen((...all: unknown[]) => all), Infinity)
    assert.equal(argumentsSeen(({ a }: { a: number }) => a), Infinity)
  })

  it('reads a body that names arguments or eval, or a unicode escape, as all of them', () => {
    assert.equal(
      argumentsSeen(function (this: unknown, value: unknown) {
        return arguments[1] ?? value
      }),
      Infinity,
    )
    assert.equal(argumentsSeen(new Function('a', '"use strict"; return eval("a")') as (a: unknown) => unknown), Infinity)
    assert.equal(argumentsSeen(new Function('a', '"use strict"; return a.\\u0078') as (a: unknown) => unknown), Infinity)
  })

  it('reads a sloppy-mode function (its legacy fn.arguments), a bound or a proxied function as all of them', () => {
    const sloppy = new Function('a', 'return a') as (a: unknown) => unknown
    assert.equal(argumentsSeen(sloppy), Infinity)
    assert.equal(argumentsSeen(((a: unknown) => a).bind(null)), Infinity)
    assert.equal(argumentsSeen(new Proxy((a: unknown) => a, {})), Infinity)
  })
})
