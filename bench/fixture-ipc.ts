// The harness <-> fixture process protocol over Node's IPC channel: the parent side
// (`spawnFixture`) and the child side (`serveFixture`). Only control travels here; timing happens in the child.
//
//   child  -> parent  { type: 'ready', info }              once set up
//   parent -> child   { type: 'call', id, method, arg }    e.g. method 'measure', arg = count
//   child  -> parent  { type: 'result', id, value } | { type: 'error', id, message }
//
// A fixture exits when its IPC channel closes, so a dead parent never leaves children behind.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

type ChildMessage =
  | { type: 'ready', info: Record<string, unknown> }
  | { type: 'result', id: number, value: unknown }
  | { type: 'error', id: number, message: string }

type ParentMessage = { type: 'call', id: number, method: string, arg: unknown }

/** Environment variable naming a directory: when set, fixtures run with `--cpu-prof` into it. */
export const CPU_PROF_ENV = 'DISPATCH_BENCH_CPU_PROF'

export class FixtureError extends Error {
  name = 'FixtureError'
}

export interface FixtureSpec {
  /** Absolute path of the fixture script (run with the current Node). */
  script: string
  args?: string[]
  env?: Record<string, string>
  /** Command run before node, e.g. ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']. */
  wrap?: string[]
  /** Label used in error messages. */
  label: string
  readyTimeoutMs?: number
}

export interface FixtureProcess {
  info: Record<string, unknown>
  call: (method: string, arg?: unknown, timeoutMs?: number) => Promise<unknown>
  stop: () => Promise<void>
  pid: number | undefined
}

const STDERR_KEEP = 4000
/** Time a fixture gets to report ready: starting Node and libp2p takes 15-30 s when the machine's load is 20-30. */
const READY_TIMEOUT_MS = 120_000

/** Spawn a fixture and resolve once it reported ready; rejects with its stderr tail if it dies first. */
export function spawnFixture (spec: FixtureSpec): Promise<FixtureProcess> {
  // `run.ts --cpu-prof DIR` profiles every fixture (nested ones too, through the environment).
  const profDir = process.env[CPU_PROF_ENV]
  const nodeFlags = profDir !== undefined && profDir !== '' ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []
  const argv = [...(spec.wrap ?? []), process.execPath, ...nodeFlags, spec.script, ...(spec.args ?? [])]
  const child: ChildProcess = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, ...spec.env }
  })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-STDERR_KEEP) })
  const pending = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>()
  let nextId = 1
  let exited = false
  const describeExit = (code: number | null, signal: string | null): string =>
    `${spec.label} exited (${signal ?? `code ${String(code)}`})${stderr.trim() !== '' ? `: ${lastLines(stderr)}` : ''}`

  return new Promise<FixtureProcess>((resolve, reject) => {
    const readyTimer = setTimeout(() => {
      reject(new FixtureError(`${spec.label} not ready after ${spec.readyTimeoutMs ?? READY_TIMEOUT_MS} ms${stderr !== '' ? `: ${lastLines(stderr)}` : ''}`))
      child.kill('SIGKILL')
    }, spec.readyTimeoutMs ?? READY_TIMEOUT_MS)

    child.on('error', err => { clearTimeout(readyTimer); reject(new FixtureError(`${spec.label}: ${err.message}`)) })
    child.on('exit', (code, signal) => {
      exited = true
      clearTimeout(readyTimer)
      const err = new FixtureError(describeExit(code, signal))
      reject(err)
      for (const p of pending.values()) { clearTimeout(p.timer); p.reject(err) }
      pending.clear()
    })
    child.on('message', (raw: unknown) => {
      const msg = raw as ChildMessage
      if (msg.type === 'ready') {
        clearTimeout(readyTimer)
        resolve({ info: msg.info, call, stop, pid: child.pid })
        return
      }
      const p = pending.get(msg.id)
      if (p === undefined) return
      pending.delete(msg.id)
      clearTimeout(p.timer)
      if (msg.type === 'result') p.resolve(msg.value)
      else p.reject(new FixtureError(`${spec.label}: ${msg.message}`))
    })
  })

  function call (method: string, arg?: unknown, timeoutMs = 120_000): Promise<unknown> {
    if (exited) return Promise.reject(new FixtureError(`${spec.label} is not running`))
    const id = nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new FixtureError(`${spec.label}: '${method}' timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, { resolve, reject, timer })
      const msg: ParentMessage = { type: 'call', id, method, arg }
      child.send(msg)
    })
  }

  async function stop (): Promise<void> {
    if (exited) return
    const gone = new Promise<void>(resolve => child.once('exit', () => resolve()))
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    await gone
    clearTimeout(timer)
  }
}

/** The most telling part of a stderr tail: the last error line if there is one, else the last lines. */
function lastLines (text: string): string {
  const lines = text.split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('at ') && !l.startsWith('Node.js v'))
  const errorLine = lines.findLast(l => /\b\w*Error\b/.test(l))
  return errorLine ?? lines.slice(-3).join(' | ')
}

export type FixtureHandlers = Record<string, (arg: unknown) => Promise<unknown> | unknown>

/**
 * Child side: answer calls with `handlers`, report ready with `info`, exit when the
 * parent goes away. `onExit` runs before a normal exit (close servers, destroy providers).
 */
export function serveFixture (handlers: FixtureHandlers, info: Record<string, unknown> = {}, onExit?: () => Promise<void> | void): void {
  if (process.send === undefined) throw new FixtureError('a fixture must be spawned with an IPC channel (bench/fixture-ipc.ts)')
  const send = (msg: ChildMessage): void => { process.send?.(msg) }
  const exit = async (): Promise<void> => {
    // Exiting anyway: a failed clean-up of a bench peer must not keep it running.
    try { await onExit?.() } catch {}
    process.exit(0)
  }
  process.on('disconnect', () => { void exit() })
  process.on('SIGTERM', () => { void exit() })
  process.on('message', (raw: unknown) => {
    const msg = raw as ParentMessage
    if (msg.type !== 'call') return
    const handler = handlers[msg.method]
    if (handler === undefined) { send({ type: 'error', id: msg.id, message: `unknown method '${msg.method}'` }); return }
    Promise.resolve()
      .then(() => handler(msg.arg))
      .then(value => send({ type: 'result', id: msg.id, value }),
        (err: unknown) => send({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) }))
  })
  send({ type: 'ready', info })
}
