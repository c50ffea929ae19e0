/**
 * What a plugin sends before anyone reads it is bounded: messages that arrive before the host
 * listens on a channel (at most PRE_LISTENER_LIMIT, then CHANNEL_FULL), and a stderr line without
 * a newline (cut at MAX_LINE_CHARS; the rest of the line dropped).
 */
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import type { ChannelSink } from '../src/channels/channel.js'
import { normalizeChannel, PRE_LISTENER_LIMIT } from '../src/channels/normalize.js'
import { captureLines, MAX_LINE_CHARS } from '../src/placement/lines.js'
import { until } from './support/wait.js'

/** A channel whose other side sends `count` messages before anyone listens. */
function floodedChannel(count: number) {
  let sink: ChannelSink | undefined
  let released = false
  const channel = normalizeChannel({ carries: 'structured-clone', open: (s) => void (sink = s), send: () => {}, close: () => void (released = true) })
  for (let i = 0; i < count; i++) sink!.message(i)
  return { channel, released: () => released }
}

describe('messages before anyone listens', () => {
  it('up to the limit are kept and delivered in order once a listener subscribes', async () => {
    const { channel } = floodedChannel(PRE_LISTENER_LIMIT)
    const got: unknown[] = []
    channel.onMessage((m) => got.push(m))
    await until(() => got.length === PRE_LISTENER_LIMIT)
    assert.deepEqual(got.slice(0, 3), [0, 1, 2])
    assert.equal(got.at(-1), PRE_LISTENER_LIMIT - 1)
    assert.equal(channel.closed, false)
  })

  it('one more closes the channel with CHANNEL_FULL and releases the transport, keeping none of them', async () => {
    const { channel, released } = floodedChannel(PRE_LISTENER_LIMIT * 3)
    let reason: (Error & { code?: string }) | undefined
    channel.onClose((error) => (reason = error))
    assert.equal(channel.closed, true)
    assert.equal(reason?.code, 'CHANNEL_FULL')
    assert.match(reason!.message, new RegExp(`more than ${PRE_LISTENER_LIMIT} messages arrived before anyone listened`))
    await until(released)
  })
})

describe('a stderr line without a newline', () => {
  it('is cut at MAX_LINE_CHARS as soon as it is that long, and the rest of it up to its newline is dropped', async () => {
    const stream = new PassThrough()
    const lines: string[] = []
    captureLines(stream, (line) => lines.push(line))
    const chunk = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 16; i++) stream.write(chunk) // 1 MiB, no newline, stream still open
    await until(() => lines.length === 1)
    assert.equal(lines[0], `${'x'.repeat(MAX_LINE_CHARS)}…`)
    stream.write(`${chunk}tail of the long line\nnext line\r\nlast`)
    stream.end()
    await new Promise((resolve) => stream.once('end', resolve))
    assert.deepEqual(lines.slice(1), ['next line', 'last'])
  })
})
