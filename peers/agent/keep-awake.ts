// Keeps the machine from sleeping while at least one task runs, with systemd-inhibit
// (Linux) or caffeinate (macOS) when present; says once why it cannot otherwise.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import * as path from 'node:path'

function onPath (name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue
    const p = path.join(dir, name)
    try { accessSync(p, constants.X_OK); return p } catch { /* next */ }
  }
  return undefined
}

export class KeepAwake {
  #holders = 0
  #child: ChildProcess | undefined
  #said = false
  readonly #report: (message: string) => void
  readonly #enabled: boolean

  constructor (report: (message: string) => void, enabled = true) {
    this.#report = report
    this.#enabled = enabled
  }

  acquire (): void {
    if (++this.#holders === 1 && this.#enabled) this.#start()
  }

  release (): void {
    if (this.#holders === 0) return
    if (--this.#holders === 0) this.#stop()
  }

  stop (): void {
    this.#holders = 0
    this.#stop()
  }

  #start (): void {
    const inhibit = onPath('systemd-inhibit')
    const caffeinate = onPath('caffeinate')
    let cmd: string[]
    if (inhibit !== undefined) cmd = [inhibit, '--what=idle:sleep', '--who=dispatch', '--why=running a task', '--mode=block', 'sleep', 'infinity']
    else if (caffeinate !== undefined) cmd = [caffeinate, '-i', '-w', String(process.pid)]
    else { this.#sayOnce('cannot keep the machine awake while tasks run: neither systemd-inhibit nor caffeinate is installed'); return }
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', (e) => this.#sayOnce(`cannot keep the machine awake: ${e.message}`))
    child.on('exit', (code) => {
      if (this.#child === child && code !== null && code !== 0) this.#sayOnce(`cannot keep the machine awake: ${path.basename(cmd[0]!)} said ${err.trim().split('\n')[0] || `exit ${code}`}`)
      if (this.#child === child) this.#child = undefined
    })
    child.unref()
    ;(child.stderr as unknown as { unref?: () => void } | null)?.unref?.()
    this.#child = child
  }

  #stop (): void {
    const c = this.#child
    this.#child = undefined
    if (c !== undefined && c.exitCode === null) c.kill('SIGTERM')
  }

  #sayOnce (m: string): void {
    if (this.#said) return
    this.#said = true
    this.#report(m)
  }
}
