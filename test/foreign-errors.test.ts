/**
 * Errors from outside polyplug keep their own code, but never pass it off as a polyplug code:
 * Node's ENOENT or ERR_* from a plugin or from a host API arrives as FOREIGN_ERROR, a typed
 * PolyplugError whose `data` names the original code (and errno, syscall, path where Node gave them).
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { PolyplugError, toPolyplugError } from '../src/rpc/errors.js'
import { errorFromWire, errorToWire } from '../src/rpc/wire.js'
import { rejectsWithCode } from './support/assert-code.js'
import { fixturesDir } from './support/paths.js'

/** A file that does not exist, inside the plugin's own folder (a process plugin may read only there). */
const missingFor = (placement: string) => join(fixturesDir, 'foreign-errors', placement, 'no-such-file.json')
const missing = missingFor('inline')

/** The rejection of `promise` (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => assert.fail('expected a rejection'), (error: unknown) => error)
}

describe('toPolyplugError', () => {
  it('wraps a Node system error as FOREIGN_ERROR, keeping code, errno, syscall and path in data and the error as cause', async () => {
    const original = await rejection(readFile(missing))
    const error = toPolyplugError(original)
    assert.equal(error.code, 'FOREIGN_ERROR')
    assert.deepEqual(error.data, { code: 'ENOENT', errno: (original as NodeJS.ErrnoException).errno, syscall: 'open', path: missing })
    assert.equal(error.cause, original)
    assert.match(error.message, /ENOENT/)
  })

  it("wraps Node's ERR_* codes and a library's own codes the same way", () => {
    let thrown: unknown
    try {
      Buffer.alloc(-1)
    } catch (e) {
      thrown = e
    }
    assert.deepEqual(toPolyplugError(thrown).data, { code: 'ERR_OUT_OF_RANGE' })
    assert.equal(toPolyplugError(thrown).code, 'FOREIGN_ERROR')
    const library = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })
    assert.deepEqual([toPolyplugError(library).code, toPolyplugError(library).data], ['FOREIGN_ERROR', { code: 'SQLITE_BUSY' }])
  })

  it("keeps a PolyplugError as it is, maps Node's permission refusals to PERMISSION_DENIED, and an error without a code to the fallback", () => {
    const own = new PolyplugError('E_PLUGIN_OWN', 'a plugin code')
    assert.equal(toPolyplugError(own), own)
    const denied = Object.assign(new Error('Access to this API has been restricted'), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: '/etc/passwd' })
    assert.deepEqual([toPolyplugError(denied).code, toPolyplugError(denied).data], ['PERMISSION_DENIED', { permission: 'FileSystemRead', resource: '/etc/passwd' }])
    assert.equal(toPolyplugError(new Error('plain')).code, 'INTERNAL_ERROR')
    assert.equal(toPolyplugError(new Error('plain'), 'PARSE_ERROR').code, 'PARSE_ERROR')
    assert.equal(toPolyplugError('text').code, 'INTERNAL_ERROR')
  })

  it('the wrapped error crosses the wire with its original code', async () => {
    const error = toPolyplugError(await rejection(readFile(missing))).withContext('p', 'm')
    const back = errorFromWire(JSON.parse(JSON.stringify(errorToWire(error))))
    assert.deepEqual([back.code, back.plugin, back.method, (back.data as { code: string }).code], ['FOREIGN_ERROR', 'p', 'm', 'ENOENT'])
  })
})

describe('a Node error escaping a plugin or a host API', { timeout: 60_000 }, () => {
  let host: Host
  before(async () => {
    host = await createHost({
      plugins: [join(fixturesDir, 'foreign-errors')],
      logger: () => {},
      api: { readSettings: (path: string) => readFile(path, 'utf8') },
    })
  })
  after(() => host.close())

  for (const placement of ['inline', 'worker', 'process']) {
    const id = `reader-${placement}`
    const missing = missingFor(placement)

    it(`${placement}: a plugin's ENOENT reaches the caller as FOREIGN_ERROR naming ENOENT, the syscall, the path, the plugin and the method`, async () => {
      const error = await rejectsWithCode(host.plugin(id).call('read', [missing]), 'FOREIGN_ERROR')
      assert.equal(error.plugin, id)
      assert.equal(error.method, 'read')
      assert.match(error.message, /ENOENT/)
      const data = error.data as Record<string, unknown>
      assert.deepEqual([data.code, data.syscall, data.path], ['ENOENT', 'open', missing])
    })

    it(`${placement}: a plugin's ERR_* reaches the caller as FOREIGN_ERROR naming it`, async () => {
      const error = await rejectsWithCode(host.plugin(id).call('allocate', [-1]), 'FOREIGN_ERROR')
      assert.equal((error.data as { code: string }).code, 'ERR_OUT_OF_RANGE')
    })

    it(`${placement}: a host API's ENOENT reaches the plugin as a typed FOREIGN_ERROR naming ENOENT`, async () => {
      const seen = (await host.plugin(id).call('askHost', [missing])) as { typed: boolean; code: string; data: Record<string, unknown> }
      assert.equal(seen.typed, true, 'the plugin sees a PolyplugError')
      assert.equal(seen.code, 'FOREIGN_ERROR')
      assert.deepEqual([seen.data.code, seen.data.syscall, seen.data.path], ['ENOENT', 'open', missing])
    })
  }
})
