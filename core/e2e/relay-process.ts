// Test-side handle on a relay running `relay.fixture.ts` in its own process.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import type { RelayLimits } from '../net/relay.ts'

export class RelayProcess {
  readonly child: ChildProcess
  peerId = ''
  addrs: string[] = []
  private readonly exited: Promise<number | null>

  private constructor (child: ChildProcess) {
    this.child = child
    this.exited = new Promise(resolve => child.on('exit', code => resolve(code)))
  }

  /** Start a relay whose identity is kept in `keyFile` (same file, same peer id across restarts). */
  static async spawn (keyFile: string, options: { listen?: string[], limits?: RelayLimits } = {}, prefix: string[] = []): Promise<RelayProcess> {
    const [command, ...args] = [...prefix, process.execPath, join(import.meta.dirname, 'relay.fixture.ts'), keyFile, JSON.stringify(options)]
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    const relay = new RelayProcess(child)
    const ready = await new Promise<{ peerId: string, addrs: string[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('relay did not start in 20 s')), 20_000)
      createInterface({ input: child.stdout! }).once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)) })
    })
    relay.peerId = ready.peerId
    relay.addrs = ready.addrs
    return relay
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    await this.exited
  }

  async kill (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGKILL')
    await this.exited
  }
}
