/** Runs the real `polyplug` CLI (bin/polyplug.js) as a child process and gives its exit code and output. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { cliPath } from './paths.js'

const run = promisify(execFile)

export async function polyplug(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], { cwd, maxBuffer: 16 << 20 })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) }
  }
}
