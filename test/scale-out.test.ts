/**
 * Scale-out (docs/scale-out.md): a real Mosquitto, three `polyplug serve` replica processes and two
 * hosts sharing them. Calls flow while one replica is SIGKILLed and then the broker is restarted:
 * every idempotent call is answered, correctly, once to its caller; no non-idempotent call runs
 * twice (the replicas record every execution) or waits for its deadline; failover times are
 * measured and printed. Then the broker restarts under a claimed call caught running, and stops
 * while claimed calls are sent.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createHost, type Host } from '../src/host/host.js'
import { silentLogger } from '../src/host/log.js'
import { validateManifest } from '../src/manifest/validate.js'
import { PolyplugError } from '../src/rpc/errors.js'
import { ErrorCodes } from '../src/errors/index.js'
import { requires, tools } from './support/requires.js'
import { poolPluginDir, POOL_ID, startPoolBroker, startReplica, type PoolBroker, type ReplicaProcess } from './support/scale.js'
import { until } from './support/wait.js'
import { cliPath } from './support/paths.js'
import { startEmbeddedBroker } from '../src/transports/mqtt-broker.js'
import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const exec = promisify(execFile)

describe('a replica pool behind Mosquitto', { skip: requires(tools.mosquitto) }, () => {
  let dir: string
  let records: string
  let pool: PoolBroker
  const replicas: ReplicaProcess[] = []
  const hosts: Host[] = []
  let roots: string[] = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'polyplug-scale-'))
    records = join(dir, 'records')
    await import('node:fs/promises').then((fs) => fs.mkdir(records))
    pool = await startPoolBroker(dir, { hosts: 2, replicas: 3 })
    const url = pool.broker.url
    roots = [await poolPluginDir(dir, url, 1, { graceMs: 500 }), await poolPluginDir(dir, url, 2, { graceMs: 500 })]
    for (let n = 1; n <= 3; n++) replicas.push(await startReplica(join(roots[0]!, POOL_ID), url, n, { POLYPLUG_SCALE_RECORD: records }))
    for (const root of roots) hosts.push(await createHost({ plugins: [root], logger: silentLogger, callTimeoutMs: 60_000 }))
  })

  after(async () => {
    for (const h of hosts) await h.close()
    for (const r of replicas) await r.stop()
    await pool?.broker.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const alive = (host: Host) => host.stats().find((s) => s.id === POOL_ID)?.pool?.replicas.filter((r) => r.state === 'alive').map((r) => r.replica).sort() ?? []
  const poolView = (host: Host) => host.stats().find((s) => s.id === POOL_ID)!.pool!
  /** How often each `method key` ran, from every replica's record. */
  const executions = async () => {
    const runs = new Map<string, number>()
    for (const file of (await readdir(records)).filter((f) => f.endsWith('.log'))) {
      for (const line of (await readFile(join(records, file), 'utf8')).split('\n')) if (line) runs.set(line, (runs.get(line) ?? 0) + 1)
    }
    return runs
  }
  const ran = async (method: string, key: string) => (await executions()).get(`${method} ${key}`) ?? 0

  it('shows each host every live replica (host.stats)', async () => {
    for (const host of hosts) await host.plugin(POOL_ID).activate()
    for (const host of hosts) await until(() => alive(host).length === 3, 10_000, 'three live replicas').catch((e) => { console.log(JSON.stringify(host.stats())); throw e })
    assert.deepEqual(alive(hosts[0]!), ['replica-1', 'replica-2', 'replica-3'])
  })

  it('lists the live replicas on the command line (polyplug replicas)', async () => {
    const { stdout } = await exec(process.execPath, [cliPath, 'replicas', '--plugins', roots[1]!, POOL_ID, '--json'])
    const view = JSON.parse(stdout) as { replicas: { replica: string; state: string; pid: number }[] }
    assert.deepEqual(view.replicas.filter((r) => r.state === 'alive').map((r) => [r.replica, r.pid]).sort(), replicas.map((r) => [r.name, r.pid]))
  })

  it('balances calls from both hosts over the replicas', async () => {
    const pids = new Set<number>()
    await Promise.all(hosts.flatMap((host) => Array.from({ length: 30 }, (_, i) => host.plugin(POOL_ID).call<{ pid: number }>('square', [i]).then((r) => pids.add(r.pid)))))
    assert.ok(pids.size >= 2, `calls reached ${pids.size} replica(s)`)
  })

  it('loses no idempotent call and runs no other call twice while a replica is killed and the broker restarts', async () => {
    type Outcome = { method: string; key: string; start: number; end: number; ok: boolean; code?: string; value?: number; arg: number }
    const outcomes: Outcome[] = []
    let stop = false
    let seq = 0
    const worker = async (host: Host, h: number) => {
      while (!stop) {
        const n = seq++
        const method = n % 2 === 0 ? 'square' : 'charge'
        const key = `h${h}-${n}`
        const start = performance.now()
        try {
          const r = await host.plugin(POOL_ID).call<{ value?: number }>(method, [method === 'square' ? n : key])
          outcomes.push({ method, key, arg: n, start, end: performance.now(), ok: true, ...(r.value !== undefined ? { value: r.value } : {}) })
        } catch (error) {
          outcomes.push({ method, key, arg: n, start, end: performance.now(), ok: false, code: (error as PolyplugError).code })
        }
      }
    }
    const running = hosts.flatMap((host, h) => Array.from({ length: 8 }, () => worker(host, h + 1)))
    const answered = (n: number) => () => outcomes.length >= n

    await until(answered(200), 30_000, '200 calls before the kill')
    const victim = replicas[0]!
    const killAt = performance.now()
    victim.child.kill('SIGKILL')
    await until(() => hosts.every((h) => !alive(h).includes(victim.name)), 10_000, 'the killed replica reported gone')
    const mark = outcomes.length
    await until(answered(mark + 200), 30_000, '200 calls after the kill')

    const restartAt = performance.now()
    await pool.restart()
    const mark2 = outcomes.length
    await until(answered(mark2 + 200), 60_000, '200 calls after the broker restart')
    stop = true
    await Promise.all(running)

    // Lost: an idempotent call that failed or came back wrong.
    const squares = outcomes.filter((o) => o.method === 'square')
    const lost = squares.filter((o) => !o.ok || o.value !== o.arg * o.arg)
    // Executions of each non-idempotent call, from every replica's record.
    const runs = new Map([...(await executions())].filter(([line]) => line.startsWith('charge ')).map(([line, n]) => [line.slice('charge '.length), n]))
    const charges = outcomes.filter((o) => o.method === 'charge')
    const duplicated = [...runs.values()].filter((n) => n > 1).length
    const crashed = charges.filter((o) => !o.ok)
    const outstandingAt = (t: number) => outcomes.filter((o) => o.start <= t && o.end > t)
    const failover = (t: number) => Math.max(0, ...outstandingAt(t).filter((o) => o.ok).map((o) => o.end - t))
    const views = hosts.map((h) => h.stats().find((s) => s.id === POOL_ID)!.pool!)
    process.stdout.write(
      `# scale-out: ${outcomes.length} calls (${squares.length} idempotent, ${charges.length} not); lost ${lost.length}; ` +
        `duplicate executions ${duplicated}; PLUGIN_CRASHED ${charges.filter((o) => o.code === ErrorCodes.PLUGIN_CRASHED).length}; ` +
        `TRANSPORT_UNAVAILABLE ${charges.filter((o) => o.code === ErrorCodes.TRANSPORT_UNAVAILABLE).length}; not ok ${crashed.length}; retried ${views.reduce((n, v) => n + v.retried, 0)}; ` +
        `failover after SIGKILL ${failover(killAt).toFixed(0)} ms, after broker restart ${failover(restartAt).toFixed(0)} ms\n`,
    )
    assert.deepEqual(lost.map((o) => `${o.key}: ${o.code ?? o.value}`), [], 'idempotent calls lost or wrong')
    assert.equal(duplicated, 0, 'non-idempotent calls executed twice')
    for (const o of charges) {
      if (o.ok) assert.equal(runs.get(o.key), 1, `${o.key} answered but ran ${runs.get(o.key) ?? 0} times`)
      // Its replica died (PLUGIN_CRASHED) or the broker restarted while it was granted (TRANSPORT_UNAVAILABLE): never its deadline.
      else assert.ok(o.code === ErrorCodes.PLUGIN_CRASHED || o.code === ErrorCodes.TRANSPORT_UNAVAILABLE, `${o.key} failed with ${o.code}`)
    }
    // Idempotent calls are answered once: the Peer resolves each call once, and the pool counts
    // (and drops) the extra answers of calls it sent twice.
    assert.equal(outcomes.length, new Set(outcomes.map((o) => o.key)).size)
    await until(() => hosts.every((h) => alive(h).length === 2), 10_000, 'two live replicas after the restart')
  })

  it('fails a claimed call caught running by a broker restart at once, saying it may have run, and never runs it again', async () => {
    const host = hosts[0]!
    const key = 'held-1'
    const outcome = host.plugin(POOL_ID).call('hold', [key]).then(() => undefined, (error: PolyplugError) => error)
    let ended = false
    void outcome.then(() => (ended = true))
    await until(async () => (await ran('hold', key)) === 1, 10_000, 'the held call running on a replica')
    const { duplicateAnswers: late, interrupted } = poolView(host)
    await pool.restart()
    // The replica still holds the call, so only the host can end it — without waiting for its 60 s deadline.
    await until(() => ended, 20_000, 'the held call ended while its replica still runs it')
    const error = await outcome
    assert.ok(error, 'the held call was answered while its replica still held it')
    assert.equal(error.code, ErrorCodes.TRANSPORT_UNAVAILABLE, error.message)
    assert.match(error.message, new RegExp(`^${POOL_ID}: the broker restarted`))
    assert.match(error.message, /hold .*may or may not have run/)
    assert.match(error.message, /make hold idempotent .*or check and retry at the application level/i)
    assert.equal(poolView(host).interrupted, interrupted + 1)
    // Let it finish: its answer comes too late and is dropped, and it ran once.
    await writeFile(join(records, `release-${key}`), '')
    await until(() => poolView(host).duplicateAnswers > late, 20_000, "the held call's late answer")
    await until(() => hosts.every((h) => alive(h).length === 2), 10_000, 'two live replicas after the restart')
    assert.deepEqual(await Promise.all(Array.from({ length: 10 }, (_, i) => host.plugin(POOL_ID).call<{ key: string }>('charge', [`after-held-${i}`]).then((r) => r.key))), Array.from({ length: 10 }, (_, i) => `after-held-${i}`))
    assert.equal(await ran('hold', key), 1, 'the held call ran again')
  })

  it('offers claimed calls sent while the broker is away again once it is back, and runs each exactly once', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `offline-${i}`)
    await pool.stop()
    const answers = keys.map((key, i) => hosts[i % 2]!.plugin(POOL_ID).call<{ key: string }>('charge', [key]))
    await pool.start()
    assert.deepEqual(await Promise.all(answers.map((a) => a.then((r) => r.key))), keys)
    await until(() => hosts.every((h) => alive(h).length === 2), 10_000, 'two live replicas after the restart')
    for (const key of keys) assert.equal(await ran('charge', key), 1, `${key} ran ${await ran('charge', key)} times`)
  })

  it('refuses a scale block outside placement remote', () => {
    assert.throws(
      () => validateManifest({ id: 'p', version: '1.0.0', kind: 'js', entry: 'i.js', placement: 'process', scale: { idempotent: ['x'] } }, 'polyplug.json'),
      (e: PolyplugError) => e.code === ErrorCodes.MANIFEST_INVALID && /\/scale: expected placement "remote"/.test(e.message),
    )
  })
})

describe('a replica pool on the embedded broker', () => {
  it('is refused with a clear error: aedes has no shared subscriptions or MQTT 5 (docs/scale-out.md)', async () => {
    const broker = await startEmbeddedBroker()
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-scale-aedes-'))
    broker.addUser('host-1', 'polyplug/', 'host-secret-1')
    const root = await poolPluginDir(dir, broker.url, 1)
    const host = await createHost({ plugins: [root], logger: silentLogger })
    try {
      await assert.rejects(host.plugin(POOL_ID).activate(), (e: PolyplugError) => e.code === ErrorCodes.TRANSPORT_UNAVAILABLE && /replica pool's broker/.test(e.message))
    } finally {
      await host.close()
      await broker.close()
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('a replica pool over TLS', { skip: requires(tools.mosquitto) }, () => {
  it('joins and answers through mqtts:// with a self-signed CA made at test time, and refuses an untrusted broker', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'polyplug-scale-tls-'))
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' })
    const pool = await startPoolBroker(dir, { hosts: 1, replicas: 1 }, { tls: { cert, key } })
    const url = pool.broker.url.replace('mqtt://', 'mqtts://')
    let replica: ReplicaProcess | undefined
    try {
      const root = await poolPluginDir(dir, url, 1, { ca: '../../cert.pem' })
      await assert.rejects(startReplica(join(root, POOL_ID), url, 1), /certificate|self.signed/i)
      replica = await startReplica(join(root, POOL_ID), url, 1, {}, cert)
      const host = await createHost({ plugins: [root], logger: silentLogger })
      try {
        assert.deepEqual(await host.plugin(POOL_ID).call('square', [7]), { value: 49, pid: replica.pid })
      } finally {
        await host.close()
      }
    } finally {
      await replica?.stop()
      await pool.broker.stop()
      await rm(dir, { recursive: true, force: true })
    }
  })
})
