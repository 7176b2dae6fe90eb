// Test-side handle on a device running `peer.fixture.ts` in its own process.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { join } from 'node:path'

export interface PeerEvent { event: string, [key: string]: unknown }

export class PeerProcess {
  readonly child: ChildProcess
  readonly events: PeerEvent[] = []
  peerId = ''
  addrs: string[] = []
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>()
  private readonly eventWaiters = new Set<() => void>()
  private exited: Promise<number | null>

  private constructor (child: ChildProcess) {
    this.child = child
    this.exited = new Promise(resolve => child.on('exit', code => {
      for (const { reject } of this.pending.values()) reject(new Error('peer process exited'))
      this.pending.clear()
      resolve(code)
    }))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let message: any
      try { message = JSON.parse(line) } catch { return }
      if (typeof message.id === 'number') {
        const waiter = this.pending.get(message.id)
        this.pending.delete(message.id)
        if (message.ok === true) waiter?.resolve(message.result)
        else waiter?.reject(new Error(message.error))
      } else {
        this.events.push(message)
        for (const wake of Array.from(this.eventWaiters)) wake()
      }
    })
  }

  /** Start a device whose identity and store live in `dir`. */
  static async spawn (dir: string, space = 'e2e', options: Record<string, unknown> = {}, prefix: string[] = []): Promise<PeerProcess> {
    // `prefix` runs the device through another command first, e.g. `ip netns exec NS`.
    const argv = [process.execPath, join(import.meta.dirname, 'peer.fixture.ts'), dir, space, JSON.stringify(options)]
    const [command, ...args] = [...prefix, ...argv]
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'inherit']
    })
    const peer = new PeerProcess(child)
    const ready = await peer.waitEvent(e => e.event === 'ready', 60_000)
    peer.peerId = ready.peerId as string
    peer.addrs = ready.addrs as string[]
    return peer
  }

  async call<T = any> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    return await new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n')
    })
  }

  async waitEvent (match: (e: PeerEvent) => boolean, timeoutMs = 10_000): Promise<PeerEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.find(match)
      if (found !== undefined) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for an event; saw ${JSON.stringify(this.events.slice(-5))}`)
      await new Promise<void>(resolve => {
        const wake = (): void => { this.eventWaiters.delete(wake); clearTimeout(t); resolve() }
        const t = setTimeout(wake, left)
        this.eventWaiters.add(wake)
      })
    }
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null) return
    // Test teardown: a peer that exits before answering 'stop' has stopped.
    await this.call('stop').catch(() => {})
    await this.exited
  }

  kill (): Promise<number | null> {
    this.child.kill('SIGKILL')
    return this.exited
  }
}
