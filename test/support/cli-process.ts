/** A running `polyplug` process driven like a terminal: its output is gathered and waited on, stdin written line by line. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { cliPath } from './paths.js'
import { until } from './wait.js'

export class CliProcess {
  stdout = ''
  stderr = ''
  readonly child: ChildProcessWithoutNullStreams
  readonly exited: Promise<number | null>

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [cliPath, ...args], { stdio: 'pipe' })
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk))
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk))
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)))
  }

  send(line: string): void {
    this.child.stdin.write(`${line}\n`)
  }

  /** Waits until `stream`'s output, from `from` on, matches; returns the index after the match. */
  async waitFor(stream: 'stdout' | 'stderr', pattern: RegExp, from = 0, timeoutMs = 0): Promise<number> {
    let end = -1
    await until(
      () => {
        const m = pattern.exec(this[stream].slice(from))
        if (m) end = from + m.index + m[0].length
        return m !== null
      },
      timeoutMs,
      `${stream} matching ${pattern} (stdout so far: ${JSON.stringify(this.stdout.slice(-400))}; stderr: ${JSON.stringify(this.stderr.slice(-800))})`,
    )
    return end
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL')
  }
}
