/**
 * polyplug against vscode-jsonrpc, the JSON-RPC library under VS Code's language servers, as the
 * oracle for JSON-RPC 2.0 with Content-Length framing and LSP's conventions:
 * - vscode-jsonrpc as the host, driving each kit's stdio conformance plugin (Python, C, Rust, Node):
 *   handshake, calls with positional and named params, errors with their numeric codes, host calls
 *   answered with foreign errors, cancellation by `$/cancelRequest` and by `$/cancel`, notifications;
 * - vscode-jsonrpc as the plugin, hosted by polyplug (with the handshake, and as a handshake-less
 *   LSP sidecar): the same, seen from the application.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import {
  CancellationTokenSource,
  createMessageConnection,
  ErrorCodes as JsonRpcErrorCodes,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from 'vscode-jsonrpc/node.js'
import { createHost, type Host } from '../src/index.js'
import { silentLogger } from '../src/host/log.js'
import { rejectsWithCode } from './support/assert-code.js'
import { until } from './support/wait.js'
import { examplesDir, fixturesDir, root } from './support/paths.js'
import { alive } from './support/process.js'
import { requires, tools } from './support/requires.js'

const TOKEN = 'interop-token'
const LONG_SLEEP_MS = 10_000

interface Kit {
  name: string
  command: string[]
  skip: string | false
}
const nodeManifest = readFileSync(`${examplesDir}/js-process-stdio/polyplug.json`, 'utf8')
const kits: Kit[] = [
  { name: 'Python', command: ['python3', `${examplesDir}/shared/conformance.py`], skip: requires(tools.python3) },
  { name: 'C', command: [`${examplesDir}/shared/bin/c-conformance`], skip: requires(tools.gcc, tools.jansson) },
  { name: 'Rust', command: [`${root}kits/rust-sidecar/target/release/rust-conformance`], skip: requires(tools.cargo, tools.serdeJson) },
  {
    name: 'Node',
    command: [process.execPath, `${root}dist/src/placement/process-carrier.js`, `${examplesDir}/js-process-stdio/index.js`, nodeManifest],
    skip: false,
  },
]

/** Which cancellation notification the next cancelled request sends: LSP's (vscode-jsonrpc's own) or polyplug's. */
let cancelMethod = '$/cancelRequest'

/** A vscode-jsonrpc client over a kit plugin's stdio, the host API it serves, and what it saw. */
function connect(kit: Kit): { child: ChildProcess; connection: MessageConnection; logs: string[] } {
  const [command, ...args] = kit.command
  const child = spawn(command!, args, {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, POLYPLUG_TRANSPORT: 'stdio', POLYPLUG_FRAMING: 'content-length', POLYPLUG_PLUGIN_ID: `interop-${kit.name}`, POLYPLUG_TOKEN: TOKEN, POLYPLUG_HOST_PID: String(process.pid) },
  })
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!), undefined, {
    cancellationStrategy: {
      receiver: { kind: 'id', createCancellationTokenSource: () => new CancellationTokenSource() },
      sender: { sendCancellation: (conn, id) => conn.sendNotification(cancelMethod, { id }), cleanup: () => {} },
    },
  })
  const logs: string[] = []
  connection.onNotification('$/log', (params: { message: string }) => logs.push(params.message))
  // The host API, as a plain JSON-RPC peer offers it: an answer, a foreign error with object data, no such method.
  connection.onRequest('host/echo', (value: unknown) => value)
  connection.onRequest('host/notReady', () => {
    throw new ResponseError(JsonRpcErrorCodes.ServerNotInitialized, 'not initialized yet', { retryAfterMs: 5 })
  })
  connection.listen()
  return { child, connection, logs }
}

/** Asserts that `promise` rejects with a vscode-jsonrpc ResponseError of numeric `code` and string `data.code`. */
async function rejectsWith(promise: Promise<unknown>, code: number, stringCode: string): Promise<ResponseError<unknown>> {
  const error = await promise.then(
    () => assert.fail(`expected error ${code}`),
    (e: unknown) => e,
  )
  assert.ok(error instanceof ResponseError, `a ResponseError, got ${String(error)}`)
  assert.equal(error.code, code, `numeric code of ${error.message}`)
  assert.equal((error.data as { code?: string } | undefined)?.code, stringCode)
  return error
}

describe('vscode-jsonrpc as the host, against each kit over stdio', () => {
  for (const kit of kits) {
    describe(`the ${kit.name} kit`, { skip: kit.skip }, () => {
      let child: ChildProcess
      let connection: MessageConnection
      let logs: string[]

      before(async () => {
        ;({ child, connection, logs } = connect(kit))
        const hello = await connection.sendRequest<{ protocol: number; token: string; methods: string[] }>('$/hello', {
          protocol: [1],
          plugin: `interop-${kit.name}`,
          host: { name: 'vscode-jsonrpc', version: '8', pid: process.pid },
          encodings: ['json'],
        })
        assert.equal(hello.protocol, 1)
        assert.equal(hello.token, TOKEN)
        assert.ok(hello.methods.includes('sleep'))
        assert.deepEqual(await connection.sendRequest('$/activate', { config: {}, reason: 'interop' }), {})
      })

      after(async () => {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        await connection.sendRequest('$/shutdown').catch(() => {})
        await exited
        connection.dispose()
      })

      it('sends its $/log notification during activation', async () => {
        await until(() => logs.some((m) => m.includes(`activated interop-${kit.name}`)), 5000)
      })

      it('answers calls with positional params, and named params as one argument', async () => {
        assert.equal(await connection.sendRequest('add', 2, 40), 42)
        assert.deepEqual(await connection.sendRequest('echo', ['a', { b: [1, null] }]), ['a', { b: [1, null] }])
        assert.deepEqual(await connection.sendRequest('echo', { named: true, n: 1 }), { named: true, n: 1 }, 'an object params is the first argument')
      })

      it('answers errors with the numeric codes of the shared table and the string code in data', async () => {
        await rejectsWith(connection.sendRequest('no/such/method', 1), JsonRpcErrorCodes.MethodNotFound, 'METHOD_NOT_FOUND')
        await rejectsWith(connection.sendRequest('fail', 'E_MINE'), -31000, 'E_MINE')
        await rejectsWith(connection.sendRequest('fail', 'RPC_TIMEOUT'), -31001, 'RPC_TIMEOUT')
        await rejectsWith(connection.sendRequest('fail', 'PERMISSION_DENIED'), -31002, 'PERMISSION_DENIED')
        await rejectsWith(connection.sendRequest('fail', 'CONTENT_MODIFIED'), -32801, 'CONTENT_MODIFIED')
        await rejectsWith(connection.sendRequest('fail', 'INVALID_PARAMS'), JsonRpcErrorCodes.InvalidParams, 'INVALID_PARAMS')
      })

      it("calls the host, and maps the host's foreign error codes and data faithfully", async () => {
        assert.equal(await connection.sendRequest('callHost', 'host/echo', ['through the kit']), 'through the kit')
        const notReady = await rejectsWith(connection.sendRequest('callHost', 'host/notReady', []), JsonRpcErrorCodes.ServerNotInitialized, 'SERVER_NOT_INITIALIZED')
        assert.deepEqual((notReady.data as { data?: unknown }).data, { retryAfterMs: 5 }, "the host's error data travels on")
        await rejectsWith(connection.sendRequest('callHost', 'host/missing', []), JsonRpcErrorCodes.MethodNotFound, 'METHOD_NOT_FOUND')
      })

      it("stops a request on LSP's $/cancelRequest and on polyplug's $/cancel", async () => {
        const before = await connection.sendRequest<number>('cancelCount')
        for (const method of ['$/cancelRequest', '$/cancel']) {
          cancelMethod = method
          const source = new CancellationTokenSource()
          const sleeping = connection.sendRequest('sleep', LONG_SLEEP_MS, source.token)
          // The request is on its way; a cancellation that overtook it would find nothing to cancel.
          assert.equal(await connection.sendRequest('echo', 'after sleep was sent'), 'after sleep was sent')
          source.cancel()
          await rejectsWith(sleeping, -32800, 'RPC_CANCELLED')
        }
        assert.equal(await connection.sendRequest<number>('cancelCount'), before + 2)
      })

      it('ignores notifications it does not know, and goes on', async () => {
        await connection.sendNotification('some/notification', { x: 1 })
        await connection.sendNotification('$/cancel', { id: 'no-such-request' })
        assert.equal(await connection.sendRequest('echo', 'still here'), 'still here')
      })
    })
  }
})

describe('vscode-jsonrpc as the plugin, hosted by polyplug', () => {
  let host: Host
  before(async () => {
    host = await createHost({ plugins: [`${fixturesDir}/jsonrpc-plugin`, `${fixturesDir}/jsonrpc-lsp`], logger: silentLogger, callTimeoutMs: 20_000 })
  })
  after(() => host.close())

  for (const id of ['jsonrpc-plugin', 'jsonrpc-lsp']) {
    const cancelName = id === 'jsonrpc-lsp' ? '$/cancelRequest' : '$/cancel'
    describe(id === 'jsonrpc-lsp' ? 'as a handshake-less LSP sidecar' : 'with the polyplug handshake', () => {
      it('answers calls, positional and named', async () => {
        const plugin = host.plugin(id)
        assert.deepEqual(await plugin.call('echo', [{ a: [1, 'two'] }]), { a: [1, 'two'] })
        assert.equal(await plugin.call('echo', ['text']), 'text')
      })

      it('reports its errors by their JSON-RPC and LSP meanings, with their data of any type', async () => {
        const plugin = host.plugin(id)
        const pid = plugin.pid()
        const fail = (code: number, data?: unknown) => plugin.call('fail', [{ code, data }])
        const notInit = await rejectsWithCode(fail(JsonRpcErrorCodes.ServerNotInitialized, { retry: true, code: 7 }), 'SERVER_NOT_INITIALIZED')
        assert.deepEqual(notInit.data, { retry: true, code: 7 })
        assert.deepEqual((await rejectsWithCode(fail(-32603, ['a', 1]), 'INTERNAL_ERROR')).data, ['a', 1])
        assert.equal((await rejectsWithCode(fail(-32602, 'a string'), 'INVALID_PARAMS')).data, 'a string')
        await rejectsWithCode(fail(-32800), 'RPC_CANCELLED')
        await rejectsWithCode(fail(-32801), 'CONTENT_MODIFIED')
        await rejectsWithCode(fail(-32803), 'REQUEST_FAILED')
        // A foreign -32001 is vscode-jsonrpc's UnknownErrorCode: not a timeout, so no heartbeat, no kill.
        await rejectsWithCode(fail(JsonRpcErrorCodes.UnknownErrorCode), 'UNKNOWN_ERROR_CODE')
        const counts = await plugin.call<{ pings: number }>('counts')
        assert.equal(counts.pings, 0, 'no hang check was started')
        assert.equal(plugin.pid(), pid)
        assert.equal(plugin.info().status, 'active')
      })

      if (id === 'jsonrpc-lsp') {
        it('initialize reaches the server with processId null: a confined server cannot watch the host with signal 0, and ends with it anyway', async () => {
          const answer = await host.plugin(id).call<{ seen: { processId: unknown } }>('initialize', [{ processId: process.pid, rootUri: null, capabilities: {} }])
          assert.deepEqual(answer.seen, { processId: null })
        })
      }

      it(`is cancelled with ${cancelName} when the application aborts a call`, async () => {
        const plugin = host.plugin(id)
        const before = (await plugin.call<{ cancelled: number }>('counts')).cancelled
        const sleeping = new Promise<void>((resolve) => {
          const dispose = plugin.onNotification('test/sleeping', () => {
            dispose()
            resolve()
          })
        })
        const controller = new AbortController()
        const call = plugin.call('sleep', [LONG_SLEEP_MS], { signal: controller.signal })
        await sleeping // the plugin has started the request
        controller.abort()
        await rejectsWithCode(call, 'RPC_CANCELLED')
        // The cancellation notification left before this call, so the plugin has seen it by the time it answers.
        assert.equal((await plugin.call<{ cancelled: number }>('counts')).cancelled, before + 1, `${cancelName} reached the plugin's cancellation token`)
      })

      it('exchanges notifications both ways', async () => {
        const plugin = host.plugin(id)
        const received: unknown[] = []
        const dispose = plugin.onNotification('test/notified', (params) => received.push(params))
        await plugin.notify('test/notify', [{ hello: 'plugin' }])
        await until(() => received.length === 1, 5000)
        dispose()
        assert.deepEqual(received, [{ got: { hello: 'plugin' } }])
      })

      it('stops cleanly', async () => {
        const plugin = host.plugin(id)
        const pid = plugin.pid()
        assert.ok(pid !== undefined)
        await plugin.stop()
        await until(() => !alive(pid), 5000)
      })
    })
  }
})
