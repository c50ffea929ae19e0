/**
 * `content-length` framing against the real thing: a polyplug Peer over a child's stdio talks to a
 * server built on vscode-jsonrpc (the JSON-RPC library under VS Code's language servers).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'
import { Peer } from '../src/rpc/peer.js'
import { streamChannel } from '../src/transports/stream.js'
import { rejectsWithCode } from './support/assert-code.js'
import { root } from './support/paths.js'

describe('content-length framing interoperates with vscode-jsonrpc', () => {
  it('calls, concurrent calls, a large payload and an unknown method', async () => {
    const child = spawn(process.execPath, [`${root}dist/bench/workers/vscode-jsonrpc-echo.js`], { stdio: ['pipe', 'pipe', 'inherit'] })
    const channel = streamChannel(child.stdout, child.stdin, { framing: 'content-length' })
    const peer = new Peer(channel, { name: 'lsp', timeout: 10_000 })
    try {
      assert.deepEqual(await peer.call('echo', [{ é: '✓', n: [1, 2] }]), { é: '✓', n: [1, 2] })
      const many = await Promise.all(Array.from({ length: 50 }, (_, i) => peer.call('echo', [i])))
      assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => i))
      const big = 'x'.repeat(3 << 20)
      assert.equal(await peer.call('echo', [big]), big)
      await rejectsWithCode(peer.call('no/such/method', []), 'METHOD_NOT_FOUND')
    } finally {
      await channel.close()
      child.kill()
    }
  })
})
