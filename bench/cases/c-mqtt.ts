/**
 * The C sidecar kit over MQTT: the C conformance plugin (examples/shared/bin/c-conformance-mqtt,
 * libmosquitto) in its own process, called by a polyplug peer through the embedded aedes broker
 * and through Mosquitto (when the `mosquitto` binary exists), against the hand-written raw `mqtt`
 * request/response pair of bench/cases/net.ts over the same broker. Small-call round trip and a
 * 1 MiB binary echo (bytes as attachments agreed in `$/hello`, as a host does; the raw pair
 * echoes the same payload: the MiB after a small head).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from '../../src/rpc/codec.js'
import { pluginPrefix, startEmbeddedBroker } from '../../src/transports/mqtt-broker.js'
import { connectMqtt } from '../../src/transports/mqtt.js'
import { freePort, policyUsers, startMosquitto, writeMosquittoConfig } from '../../test/support/mosquitto.js'
import { BIG_PAYLOAD, compare, row, type BenchRow } from '../measure.js'
import { hasMosquitto, rawMqtt } from './net.js'
import { agreedPeer, attachedFrame } from '../attach.js'

const binary = fileURLToPath(new URL('../../../examples/shared/bin/c-conformance-mqtt', import.meta.url))
const ID = 'c-bench'
const MiB = 1 << 20
const small = stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] })
const big = new Uint8Array(MiB).map((_, i) => i & 255)
const bigFrame = attachedFrame(big)

type Auth = { username: string; password: string }

async function rows(label: string, url: string, host: Auth, plugin: Auth): Promise<BenchRow[]> {
  const channel = await connectMqtt({ url, pluginId: ID, side: 'host', ...host })
  const ready = new Promise<void>((resolve) => channel.onMessage((m) => (m as { method?: string }).method === '$/ready' && resolve()))
  const child: ChildProcess = spawn(binary, [], {
    env: { PATH: process.env.PATH ?? '', POLYPLUG_TRANSPORT: 'mqtt', POLYPLUG_PLUGIN_ID: ID, POLYPLUG_HOST_PID: String(process.pid), POLYPLUG_MQTT_URL: url, POLYPLUG_MQTT_USERNAME: plugin.username, POLYPLUG_MQTT_PASSWORD: plugin.password },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const exited = once(child, 'exit')
  const raw = await rawMqtt(url, host)
  try {
    await Promise.race([ready, exited.then(() => Promise.reject(new Error('the C plugin exited before $/ready')))])
    const peer = await agreedPeer(channel, ID)
    const [p, b] = await compare([() => peer.call('echo', [1]), () => raw.call(small)], { batch: 200, rounds: 9, warmup: 300 })
    const [pb, bb] = await compare([() => peer.call('echo', [big]), () => raw.call(bigFrame)], BIG_PAYLOAD)
    return [
      row({ name: `mqtt ${label} C plugin echo`, kind: 'exec', placement: 'process', transport: 'mqtt', polyplug: p!, baseline: b! }),
      row({ name: `mqtt ${label} C plugin 1 MiB echo`, kind: 'exec', placement: 'process', transport: 'mqtt', metric: '1MiB-echo', polyplug: pb!, baseline: bb! }),
    ]
  } finally {
    await raw.close()
    await channel.close() // $/gone: the plugin exits
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
      await exited
      clearTimeout(timer)
    }
  }
}

export async function run(): Promise<BenchRow[]> {
  const result: BenchRow[] = []
  const plugin = { username: ID, password: 'c-bench-secret' }
  const broker = await startEmbeddedBroker()
  const host = { username: 'bench-host', password: broker.addUser('bench-host', 'polyplug/') }
  broker.addUser(ID, pluginPrefix(ID), plugin.password)
  try {
    result.push(...(await rows('aedes', broker.url, host, plugin)))
  } finally {
    await broker.close()
  }
  if (hasMosquitto()) {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-bench-'))
    const port = await freePort()
    const mosquittoHost = { username: 'bench-host', password: 'bench' }
    const files = await writeMosquittoConfig(dir, { port, users: policyUsers(mosquittoHost, [{ id: ID, password: plugin.password }]) })
    const mosquitto = await startMosquitto(files.config, port)
    try {
      result.push(...(await rows('mosquitto', mosquitto.url, mosquittoHost, plugin)))
    } finally {
      await mosquitto.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
  return result
}
