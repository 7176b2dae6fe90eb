// Test-side handle on a program that prints one JSON object per line (the editor's always-on
// device, the packed package's peer): wait for a line by predicate, stop it with SIGTERM.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

export class JsonLinesProcess {
  readonly child: ChildProcess
  readonly lines: any[] = []
  stderr = ''
  readonly exited: Promise<number | null>
  private readonly waiters = new Set<() => void>()

  constructor (args: string[], cwd?: string) {
    this.child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stderr!.on('data', d => { this.stderr += d })
    this.exited = new Promise(resolve => this.child.on('exit', code => { this.wake(); resolve(code) }))
    createInterface({ input: this.child.stdout! }).on('line', line => {
      try { this.lines.push(JSON.parse(line)) } catch { return }
      this.wake()
    })
  }

  /** The first line (after those already taken) matching `match`; taken, so the next call finds the next one. */
  async take (match: (line: any) => boolean, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const at = this.lines.findIndex(match)
      if (at >= 0) return this.lines.splice(at, 1)[0]
      if (this.child.exitCode !== null) throw new Error(`process exited (${this.child.exitCode}) before the expected line; stderr: ${this.stderr}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for a line; stderr: ${this.stderr}; lines: ${JSON.stringify(this.lines)}`)
      await new Promise<void>(resolve => {
        const wake = (): void => { this.waiters.delete(wake); clearTimeout(timer); resolve() }
        const timer = setTimeout(wake, left)
        this.waiters.add(wake)
      })
    }
  }

  /** SIGTERM (the program persists and exits), then its exit code. */
  async stop (): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    return await this.exited
  }

  private wake (): void {
    for (const wake of Array.from(this.waiters)) wake()
  }
}
