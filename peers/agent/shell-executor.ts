// Runs `$ <command>` tasks with /bin/sh in the task's folder when the terminal is granted:
// timeout, cancellation, output captured and truncated (head and tail kept) into the result,
// and streamed into the task's log while it runs (live-output.ts).

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { withoutNetwork } from './sandbox.ts'
import type { Executor, ExecutionContext, ExecutionResult } from './executor.ts'
import { LiveOutput } from './live-output.ts'

export const SHELL_TIMEOUT_MS = 10 * 60_000
/** Output kept for the result: the first and last parts of it, with a marker in between. */
export const SHELL_OUTPUT_HEAD = 4 * 1024
export const SHELL_OUTPUT_TAIL = 8 * 1024
/** After SIGTERM a command has this long before SIGKILL, well inside the 2 s cancel bound. */
const KILL_GRACE_MS = 500
const NO_TERMINAL = 'this desktop has not granted the terminal (start it with --terminal to run `$ <command>` tasks)'

export interface ShellExecutorOptions { timeoutMs?: number }

export class ShellExecutor implements Executor {
  readonly name = 'shell'
  readonly timeoutMs: number

  constructor (opts: ShellExecutorOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? SHELL_TIMEOUT_MS
  }

  async run (ctx: ExecutionContext): Promise<ExecutionResult> {
    const command = ctx.text.replace(/^\$\s/, '').trim()
    if (!ctx.permissions.terminal) {
      await ctx.audit.append({ taskId: ctx.taskId, tool: 'shell', input: { command }, decision: 'denied', reason: 'terminal not granted' })
      return { status: 'failed', error: NO_TERMINAL }
    }
    if (command === '') return { status: 'failed', error: 'empty command' }
    let cwd: string
    try {
      cwd = ctx.permissions.workdir()
      if (!(await ctx.permissions.canWriteSomewhere())) throw new Error('shell commands run in a read-write folder; none is granted for this task')
      cwd = await ctx.permissions.check(cwd, 'write')
    } catch (err) {
      const reason = (err as Error).message
      await ctx.audit.append({ taskId: ctx.taskId, tool: 'shell', input: { command }, decision: 'denied', reason })
      return { status: 'failed', error: reason }
    }
    await ctx.audit.append({ taskId: ctx.taskId, tool: 'shell', input: { command, cwd }, decision: 'allowed', reason: 'terminal granted' })
    ctx.log('tool', `$ ${command}  (in ${cwd})`)
    let child: ChildProcess
    try {
      child = await startCommand(ctx, command, cwd)
    } catch (err) {
      return { status: 'failed', error: (err as Error).message }
    }
    const live = new LiveOutput(text => { ctx.log('output', text) })
    const { code, signal, output, timedOut } = await runCommand(child, this.timeoutMs, ctx.signal, live)
    if (ctx.signal.aborted) return { status: 'failed', error: 'cancelled' }
    if (timedOut) return { status: 'failed', error: `timed out after ${Math.round(this.timeoutMs / 1000)} s`, result: output }
    if (code === 0) return { status: 'done', result: output }
    return { status: 'failed', error: signal !== null ? `killed by ${signal}` : `exit code ${code}`, result: output }
  }
}

interface CommandOutcome { code: number | null, signal: string | null, output: string, timedOut: boolean }

/**
 * Starts the command in its own process group (a cancel kills the whole pipeline, not only the
 * shell), without network unless granted (where that can be enforced), recorded in the home first.
 */
async function startCommand (ctx: ExecutionContext, command: string, cwd: string): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toUpperCase().startsWith('ANTHROPIC_')) env[k] = v
  const plain = ['/bin/sh', '-c', command]
  const argv = ctx.permissions.network ? plain : (withoutNetwork(ctx.noNetwork, plain) ?? plain)
  if (ctx.runs !== undefined) return await ctx.runs.spawn(ctx.taskId, argv, { cwd, env })
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw (await once(child, 'error'))[0] as Error
  return child
}

function runCommand (child: ChildProcess, timeoutMs: number, abort: AbortSignal, live: LiveOutput): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const out = new HeadTail(SHELL_OUTPUT_HEAD, SHELL_OUTPUT_TAIL)
    child.stdout!.on('data', (d: Buffer) => out.push(d))
    child.stderr!.on('data', (d: Buffer) => out.push(d))
    live.follow(child.stdout!)
    live.follow(child.stderr!)
    let timedOut = false
    let killTimer: NodeJS.Timeout | undefined
    const kill = () => {
      signalGroup(child.pid, 'SIGTERM')
      killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS)
    }
    const timer = setTimeout(() => { timedOut = true; kill() }, timeoutMs)
    const onAbort = () => kill()
    abort.addEventListener('abort', onAbort, { once: true })
    if (abort.aborted) kill()
    const finish = (code: number | null, signal: string | null) => {
      clearTimeout(timer)
      if (killTimer !== undefined) clearTimeout(killTimer)
      abort.removeEventListener('abort', onAbort)
      live.close()
      resolve({ code, signal, output: out.text(), timedOut })
    }
    child.on('error', (err) => { out.push(Buffer.from(String(err.message))); finish(127, null) })
    child.on('close', finish)
  })
}

function signalGroup (pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return
  try { process.kill(-pid, sig) } catch { /* already gone */ }
}

/** Keeps the first `head` and the last `tail` bytes of a stream. */
class HeadTail {
  #head: Buffer[] = []
  #headLen = 0
  #tail: Buffer = Buffer.alloc(0)
  #dropped = 0
  readonly headMax: number
  readonly tailMax: number
  constructor (head: number, tail: number) { this.headMax = head; this.tailMax = tail }

  push (d: Buffer): void {
    if (this.#headLen < this.headMax) {
      const take = d.subarray(0, this.headMax - this.#headLen)
      this.#head.push(take)
      this.#headLen += take.length
      d = d.subarray(take.length)
    }
    if (d.length === 0) return
    const joined = Buffer.concat([this.#tail, d])
    const excess = Math.max(0, joined.length - this.tailMax)
    this.#dropped += excess
    this.#tail = joined.subarray(excess)
  }

  text (): string {
    const head = Buffer.concat(this.#head).toString('utf8')
    const tail = this.#tail.toString('utf8')
    const s = this.#dropped > 0 ? `${head}\n[… ${this.#dropped} bytes of output left out …]\n${tail}` : head + tail
    return s.replace(/\s+$/, '')
  }
}
