/**
 * Fault scenarios measured by both the suite (with a generous bound) and `npm run bench -- --only
 * faults` (the precise figure): a plugin that stops reading, a publisher that floods.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { streamChannel } from '../../src/transports/stream.js'
import { loopDelayDuring, type LoopDelay } from './loop-delay.js'

/**
 * Writes `count` frames to a real process that never reads its stdin, then closes the channel
 * and kills the process: the event-loop delay while the queued writes are released.
 */
export async function stopWithQueuedWrites(count: number): Promise<LoopDelay & { queued: number }> {
  const child = spawn('sleep', ['60'], { stdio: ['pipe', 'pipe', 'ignore'] })
  await once(child, 'spawn')
  const channel = streamChannel(child.stdout!, child.stdin!)
  const message = new TextEncoder().encode(JSON.stringify({ jsonrpc: '2.0', method: 'tick', params: ['x'.repeat(40)] }))
  const sends: Promise<void>[] = []
  for (let i = 0; i < count; i++) {
    const sent = channel.send(message)
    if (sent) sends.push(sent)
  }
  const queued = sends.length
  const delay = await loopDelayDuring(async () => {
    await channel.close()
    child.kill('SIGKILL')
    await Promise.all(sends)
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  })
  return { ...delay, queued }
}
