// Test-side handle on a program that prints one JSON object per line (a `dispatch` verb, the
// editor example's always-on device, the packed package's peer): wait for lines, stop it.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export interface JsonLinesProcessOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** A command that runs node, e.g. `['ip', 'netns', 'exec', NAME]` to run it in a network namespace. */
  prefix?: string[]
}

/** `node ...args`, its stdout read as JSON lines (other lines ignored), each with the time it arrived. */
export class JsonLinesProcess {
  readonly child: ChildProcess
  readonly lines: any[] = []
  readonly times: number[] = []
  stderr = ''
  readonly exited: Promise<number | null>
  private readonly waiters = new Set<() => void>()
  private readonly taken = new Set<number>()

  constructor (args: string[], options: JsonLinesProcessOptions = {}) {
    const [command, ...before] = [...(options.prefix ?? []), process.execPath]
    this.child = spawn(command, [...before, ...args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: options.env })
    this.child.stderr!.on('data', d => { this.stderr += d; this.wake() })
    this.exited = new Promise(resolve => this.child.on('exit', code => { this.wake(); resolve(code) }))
    createInterface({ input: this.child.stdout! }).on('line', line => {
      try { this.lines.push(JSON.parse(line)); this.times.push(Date.now()) } catch { return }
      this.wake()
    })
  }

  /** The first line matching `match`, waiting for it. */
  async waitFor (match: (line: any) => boolean, timeoutMs = 30_000): Promise<any> {
    return this.lines[await this.find(i => match(this.lines[i]), timeoutMs)]
  }

  /** The first line matching `match` that no earlier `take` returned (so successive calls get successive lines). */
  async take (match: (line: any) => boolean, timeoutMs = 30_000): Promise<any> {
    const at = await this.find(i => !this.taken.has(i) && match(this.lines[i]), timeoutMs)
    this.taken.add(at)
    return this.lines[at]
  }

  /** SIGTERM (a clean stop), then the exit code. */
  async stop (): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    return await this.exited
  }

  private async find (match: (index: number) => boolean, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const at = this.lines.findIndex((_, i) => match(i))
      if (at >= 0) return at
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before the expected line; stderr: ${this.stderr}; lines: ${JSON.stringify(this.lines)}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out; stderr: ${this.stderr}; lines: ${JSON.stringify(this.lines)}`)
      await new Promise<void>(resolve => {
        const wake = (): void => { this.waiters.delete(wake); clearTimeout(timer); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  private wake (): void {
    for (const wake of Array.from(this.waiters)) wake()
  }
}
