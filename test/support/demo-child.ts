/** Starts the workbench demo (`dist/demo/main.js`) as a child process and reads the URLs it prints. */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from './paths.js'

export interface DemoChild {
  child: ChildProcess
  app: string
  dashboard: string
  token: string
  /** The child's own TMPDIR, fresh and empty at start. */
  tmp: string
  output(): string
}

export async function startDemo(args: string[] = ['--serve']): Promise<DemoChild> {
  const tmp = await mkdtemp(join(tmpdir(), 'polyplug-demo-test-'))
  const tsCache = await mkdtemp(join(tmpdir(), 'polyplug-demo-ts-cache-'))
  const child = spawn(process.execPath, [`${root}dist/demo/main.js`, ...args], {
    cwd: root,
    env: { ...process.env, TMPDIR: tmp, POLYPLUG_TS_CACHE: tsCache },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d))
  const urls = await new Promise<{ app: string; dashboard: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no URLs within 60 s:\n${out}`)), 60_000)
    const check = () => {
      const app = /polyplug workbench: (\S+)/.exec(out)?.[1]
      const dash = /dashboard: +(\S+)#token=([0-9a-f]+)/.exec(out)
      if (app && dash) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        resolve({ app, dashboard: dash[1]!, token: dash[2]! })
      }
    }
    child.stdout!.on('data', check)
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before printing its URLs:\n${out}`)))
  })
  return { child, ...urls, tmp, output: () => out }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
