/**
 * The channel conformance suite, written once and run over every transport: a transport is done
 * when this passes over it. `open` returns two connected channels (the host end first).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Channel } from '../../src/channels/channel.js'
import { jsonCodec } from '../../src/rpc/codec.js'
import { Peer } from '../../src/rpc/peer.js'
import { rejectsWithCode } from './assert-code.js'
import { until } from './wait.js'

export interface ChannelPair {
  host: Channel
  plugin: Channel
  /** Releases whatever the pair needs beyond the channels (servers, files). */
  dispose?: () => Promise<void>
}

function sample(channel: Channel, i: number): unknown {
  const value = { jsonrpc: '2.0', method: 'n', params: [i] }
  if (channel.carries === 'bytes') return jsonCodec.encode(value)
  if (channel.carries === 'text') return JSON.stringify(value)
  return value
}

function index(channel: Channel, message: unknown): number {
  const value = (channel.carries === 'bytes'
    ? jsonCodec.decode(message as Uint8Array)
    : channel.carries === 'text'
      ? JSON.parse(message as string)
      : message) as { params: [number] }
  return value.params[0]
}

export interface ChannelSuiteOptions {
  /** The channel offers Channel.sendText (a length-framed byte stream): checked too. */
  sendsText?: boolean
}

export function describeChannel(name: string, open: () => Promise<ChannelPair>, options: ChannelSuiteOptions = {}): void {
  describe(`channel conformance: ${name}`, () => {
    it('delivers messages in order, both ways', async () => {
      const { host, plugin, dispose } = await open()
      try {
        const atPlugin: number[] = []
        const atHost: number[] = []
        plugin.onMessage((m) => atPlugin.push(index(plugin, m)))
        host.onMessage((m) => atHost.push(index(host, m)))
        for (let i = 0; i < 200; i++) {
          await host.send(sample(host, i))
          await plugin.send(sample(plugin, i))
        }
        const want = Array.from({ length: 200 }, (_, i) => i)
        await until(() => atPlugin.length === 200 && atHost.length === 200)
        assert.deepEqual(atPlugin, want)
        assert.deepEqual(atHost, want)
      } finally {
        await host.close()
        await plugin.close()
        await dispose?.()
      }
    })

    if (options.sendsText) it('takes text (sendText) and delivers it as the message its UTF-8 is, in order with send', async () => {
      const { host, plugin, dispose } = await open()
      try {
        assert.equal(typeof host.sendText, 'function', 'a length-framed byte stream encodes text into its own buffer')
        if (!host.sendText) return
        const received: string[] = []
        plugin.onMessage((m) => received.push(Buffer.from(m as Uint8Array).toString('utf8')))
        const sent: string[] = []
        for (let i = 0; i < 300; i++) {
          const text = JSON.stringify({ jsonrpc: '2.0', method: 'n', params: [i, 'déjà 🎉'.repeat(i % 7)] })
          sent.push(text)
          await (i % 4 === 0 ? host.send(Buffer.from(text)) : host.sendText(text))
        }
        await until(() => received.length === 300)
        assert.deepEqual(received, sent)
      } finally {
        await host.close()
        await plugin.close()
        await dispose?.()
      }
    })

    it('reports close exactly once on both ends, and close is idempotent', async () => {
      const { host, plugin, dispose } = await open()
      try {
        let hostCloses = 0
        let pluginCloses = 0
        host.onClose(() => hostCloses++)
        plugin.onClose(() => pluginCloses++)
        await Promise.all([host.close(), host.close()])
        await host.close()
        await until(() => pluginCloses > 0)
        await plugin.close()
        // Two turns of the event loop (I/O callbacks included) for a second, wrong close report to arrive.
        for (let turn = 0; turn < 2; turn++) await new Promise((r) => setImmediate(r))
        assert.equal(hostCloses, 1)
        assert.equal(pluginCloses, 1)
        assert.ok(host.closed && plugin.closed)
        let late = 0
        host.onClose(() => late++)
        assert.equal(late, 1, 'a listener added after close is called at once')
      } finally {
        await host.close()
        await plugin.close()
        await dispose?.()
      }
    })

    it('refuses sends after close with CHANNEL_CLOSED', async () => {
      const { host, plugin, dispose } = await open()
      try {
        await host.close()
        await rejectsWithCode(Promise.resolve().then(() => host.send(sample(host, 1))), 'CHANNEL_CLOSED')
      } finally {
        await plugin.close()
        await dispose?.()
      }
    })

    it('fails calls pending on one end when the other end goes away, leaving none pending', async () => {
      const { host, plugin, dispose } = await open()
      try {
        const client = new Peer(host, { name: 'p' })
        const server = new Peer(plugin)
        let arrived = 0
        server.handle('never', () => (arrived++, new Promise(() => {})))
        server.handle('echo', (params) => (params as unknown[])[0])
        assert.equal(await client.call('echo', ['x']), 'x')
        const pending = [client.call('never'), client.call('never')]
        // Over a real socket the rejection can land while `plugin.close()` is still awaited.
        for (const call of pending) call.catch(() => {})
        await until(() => arrived === 2, 10_000, 'both calls reached the plugin')
        assert.equal(client.pendingCount, 2)
        await plugin.close()
        for (const call of pending) await rejectsWithCode(call, 'CHANNEL_CLOSED')
        assert.equal(client.pendingCount, 0)
      } finally {
        await host.close()
        await plugin.close()
        await dispose?.()
      }
    })

    it('carries a 1 MiB binary value intact through the Peer', async () => {
      const { host, plugin, dispose } = await open()
      try {
        const client = new Peer(host)
        new Peer(plugin).handle('echo', (params) => (params as unknown[])[0])
        const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 255)
        const back = await client.call<Uint8Array>('echo', [data])
        assert.equal(back.byteLength, data.byteLength)
        assert.ok(Buffer.from(back).equals(Buffer.from(data)))
      } finally {
        await host.close()
        await plugin.close()
        await dispose?.()
      }
    })
  })
}
