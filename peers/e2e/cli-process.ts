// Test-side handles on the real `dispatch` command, each run in its own process:
// one-shot runs (exit code, stdout, stderr) and long-running ones read line by line.

import { spawn } from 'node:child_process'
import { freeLoopbackPort } from '../cli/free-port.ts'
import { JsonLinesProcess } from './json-lines-process.ts'
import { join } from 'node:path'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'

const BIN = join(import.meta.dirname, '..', 'cli', 'bin.js')

export interface RunResult { code: number | null, stdout: string, stderr: string, json: any[] }

/** Runs `dispatch --home HOME ...args` to completion. */
export async function dispatch (home: string, args: string[], options: { timeoutMs?: number, input?: string, prefix?: string[] } = {}): Promise<RunResult> {
  const [command, ...before] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(command, [...before, BIN, '--home', home, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, DISPATCH_HOME: '' } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  if (options.input !== undefined) child.stdin.write(options.input)
  child.stdin.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr, json: parseLines(stdout) }
}

/** Runs and expects exit 0; returns the JSON lines. */
export async function ok (home: string, args: string[], prefix?: string[]): Promise<any[]> {
  const r = await dispatch(home, args, prefix !== undefined ? { prefix } : {})
  if (r.code !== 0) throw new Error(`dispatch ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  return r.json
}

function parseLines (text: string): any[] {
  const out: any[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    // Human lines between the JSON ones are not what the tests read.
    try { out.push(JSON.parse(line)) } catch {}
  }
  return out
}

/** A `dispatch` process that keeps running (desktop, pair, sync --follow). `stop()` is SIGTERM: the home is released. */
export class DispatchProcess extends JsonLinesProcess {
  /** `prefix`: a command that runs it, such as `['ip', 'netns', 'exec', NAME]`. */
  constructor (home: string, args: string[], env: NodeJS.ProcessEnv = {}, prefix: string[] = []) {
    super([BIN, '--home', home, ...args], { env: { ...process.env, DISPATCH_HOME: '', ...env }, prefix })
  }
}

/** A TCP port free right now on 127.0.0.1, so a desktop can come back on the same address. */
export const freePort = freeLoopbackPort

/** Starts `dispatch desktop --json` and waits for its ready line. */
export async function startDesktop (home: string, name: string, port?: number): Promise<{ proc: DispatchProcess, ready: any }> {
  const listen = port === undefined ? '/ip4/127.0.0.1/tcp/0' : `/ip4/127.0.0.1/tcp/${port}`
  const proc = new DispatchProcess(home, ['desktop', '--json', '--name', name, '--listen', listen])
  const ready = await proc.waitFor(l => l.event === 'ready')
  return { proc, ready }
}

/** `pair --json --yes` on a desktop home; resolves once the invite line is out. */
export async function openPair (home: string, extra: string[] = []): Promise<{ proc: DispatchProcess, invite: string }> {
  const proc = new DispatchProcess(home, ['pair', '--json', '--yes', ...extra])
  const line = await proc.waitFor(l => l.event === 'invite')
  return { proc, invite: line.invite }
}

/** One test file's scratch space: fresh homes under one temporary folder, and the processes to stop at the end. */
export interface Scratch {
  root: string
  /** A new, unused home directory path. */
  home: () => string
  running: Set<DispatchProcess>
  /** Stop what still runs and remove the folder (give it to uvu's `test.after`). */
  cleanup: () => Promise<void>
}

export async function makeScratch (prefix: string): Promise<Scratch> {
  const root = await mkdtemp(join(tmpdir(), prefix))
  const running = new Set<DispatchProcess>()
  let n = 0
  return {
    root,
    home: () => join(root, `h${++n}`),
    running,
    cleanup: async () => {
      await Promise.all(Array.from(running).map(async p => await p.stop()))
      await rm(root, { recursive: true, force: true })
    }
  }
}
