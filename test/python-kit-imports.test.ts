/**
 * What the Python kit (kits/python) imports when a plugin process starts: every plugin imports it
 * before its first answer, so the standard-library modules only some plugins use are imported where
 * they are first used — asyncio (an async stream), inspect (a method that is not a plain function),
 * socket (the unix and tcp transports), base64 (a bytes value in JSON), queue (the C SimpleQueue
 * is enough) — and each of those paths still works once it is taken.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { root } from './support/paths.js'

const kit = join(root, 'kits', 'python')
const LAZY = ['asyncio', 'inspect', 'socket', 'base64', 'queue']

/** Runs `code` in a fresh python3 with the kit on its path; its last line of output, as JSON. */
function python(code: string): unknown {
  const out = execFileSync('python3', ['-c', `import json, sys\nsys.path.insert(0, sys.argv[1])\n${code}`, kit], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop() ?? '')
}

describe('the Python kit at start', () => {
  it('imports none of asyncio, inspect, socket, base64 or queue with polyplug and its stream module', () => {
    const loaded = python(`
before = set(sys.modules)
import polyplug, polyplug_stream
print(json.dumps(sorted(m for m in ${JSON.stringify(LAZY)} if m in sys.modules and m not in before)))`)
    assert.deepEqual(loaded, [])
  })

  it('still streams an async generator, and closes it when the consumer stops early', () => {
    const answer = python(`
import polyplug_stream
closed = []
async def numbers():
    try:
        for i in range(5):
            yield i
    finally:
        closed.append(True)
items, close = polyplug_stream._sync_items(numbers())
taken = [next(items), next(items)]
close()
print(json.dumps({"taken": taken, "closed": closed, "asyncio": "asyncio" in sys.modules}))`)
    assert.deepEqual(answer, { taken: [0, 1], closed: [true], asyncio: true })
  })

  it('still encodes and decodes bytes as {"$bytes": base64}', () => {
    const answer = python(`
import polyplug
wire = polyplug.encode({"b": b"\\x00\\xffpolyplug"})
print(json.dumps({"wire": wire.decode(), "back": list(polyplug.decode(wire)["b"])}))`)
    assert.deepEqual(answer, { wire: '{"b":{"$bytes":"AP9wb2x5cGx1Zw=="}}', back: [0, 255, ...Buffer.from('polyplug')] })
  })

  it('reads *args and **kwargs with the flags inspect names', () => {
    const answer = python(`
import inspect, polyplug
print(json.dumps([polyplug.CO_VARARGS == inspect.CO_VARARGS, polyplug.CO_VARKEYWORDS == inspect.CO_VARKEYWORDS]))`)
    assert.deepEqual(answer, [true, true])
  })
})
