// Run records: a command starts only once its process group and start time are on disk
// (`<home>/runs/`, fsynced), and its record goes when it ends. Commands run in their own
// group, which outlives a desktop killed with -9; the next desktop ends every recorded group
// still alive before it retries their tasks, so a retry never runs beside the attempt before it.

import { spawn, execFile } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'

export const RUNS_DIR = 'runs'
/** After SIGTERM, a survivor has this long before SIGKILL. */
export const SURVIVOR_GRACE_MS = 2_000
/** After SIGKILL, how long to wait for the group to be gone before saying it is not. */
const KILLED_WAIT_MS = 10_000
const POLL_MS = 50
/** How long a group just sent SIGKILL by its owner may take to be gone. */
const JUST_KILLED_MS = 2_000

export interface RunRecord {
  taskId: string
  /** Process group id: the pid of the group's first process. */
  pgid: number
  /** That process's start time (/proc/<pid>/stat field 22, or `ps -o lstart`): tells a reused pid apart. */
  startTime: string
  recordedAt: string
}

export interface SpawnOptions { cwd: string, env: NodeJS.ProcessEnv }

export class RunRecords {
  readonly dir: string

  constructor (home: string) {
    this.dir = path.join(home, RUNS_DIR)
  }

  /**
   * Starts `argv` in a new process group, stdout and stderr piped. The group's first process
   * waits on a pipe until the record is fsynced, so nothing of the command runs unrecorded (if
   * recording fails, the pipe closes and the command never starts). The record is removed when
   * the process ends.
   */
  async spawn (taskId: string, argv: string[], opts: SpawnOptions): Promise<ChildProcess> {
    const child = spawn('/bin/sh', ['-c', 'read go <&3 || exit 125; exec 3<&-; exec "$@"', 'dispatch-run', ...argv], {
      cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe']
    })
    const gate = child.stdio[3] as NodeJS.WritableStream & { destroy: () => void }
    // A command that ended before the go (killed from outside) closes its end: nothing to report.
    gate.on('error', () => {})
    if (child.pid === undefined) { gate.destroy(); throw (await once(child, 'error'))[0] as Error }
    const pid = child.pid
    const file = path.join(this.dir, `${fileSafe(taskId)}-${pid}.json`)
    const ended = new Promise<void>((resolve) => child.once('close', () => resolve()))
    try {
      const startTime = await processStartTime(pid)
      if (startTime === undefined) throw new Error(`process ${pid} ended before it was recorded`)
      await writeDurably(this.dir, file, JSON.stringify({ taskId, pgid: pid, startTime, recordedAt: new Date().toISOString() } satisfies RunRecord))
    } catch (err) {
      // Its gate closes unopened: the shell exits without running the command.
      gate.destroy()
      await ended
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new Error('not started: the desktop\'s disk is full, and a command is recorded on disk before it starts (so that a crash never runs it twice); free space on the desktop, then add the task again')
      throw new Error(`cannot record the command before it starts: ${(err as Error).message}`)
    }
    gate.end('go\n')
    void ended.then(async () => { await fs.rm(file, { force: true }) })
    return child
  }

  /** Every record on disk (unreadable ones are skipped and removed). */
  async list (): Promise<Array<RunRecord & { file: string }>> {
    let names: string[]
    try { names = await fs.readdir(this.dir) } catch { return [] }
    const out: Array<RunRecord & { file: string }> = []
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const file = path.join(this.dir, name)
      try {
        const r = JSON.parse(await fs.readFile(file, 'utf8')) as RunRecord
        if (typeof r.taskId === 'string' && Number.isInteger(r.pgid) && r.pgid > 1 && typeof r.startTime === 'string') out.push({ ...r, file })
        else await fs.rm(file, { force: true })
      } catch {
        await fs.rm(file, { force: true })
      }
    }
    return out
  }

  /**
   * Removes the records of `taskId` whose groups are gone: Claude's bash, killed when its run
   * closed its tools (given a moment to die). One still alive keeps its record.
   */
  async removeEnded (taskId: string): Promise<void> {
    for (const r of await this.list()) {
      if (r.taskId !== taskId) continue
      if (!(await isOurGroupAlive(r)) || await groupGone(r.pgid, JUST_KILLED_MS)) await fs.rm(r.file, { force: true })
    }
  }

  /**
   * Ends every recorded group still alive (SIGTERM, SIGKILL after the grace period) and waits
   * until it is gone, then removes the records. Returns the records whose groups were ended.
   * Meant for start-up, before any task of this home runs.
   */
  async endSurvivors (log: (message: string) => void, graceMs = SURVIVOR_GRACE_MS): Promise<RunRecord[]> {
    const ended: RunRecord[] = []
    for (const r of await this.list()) {
      if (await isOurGroupAlive(r)) {
        log(`task ${r.taskId}: its command from before the restart is still running (process group ${r.pgid}); ending it before the task is retried`)
        signalGroup(r.pgid, 'SIGTERM')
        if (!(await groupGone(r.pgid, graceMs))) {
          signalGroup(r.pgid, 'SIGKILL')
          if (!(await groupGone(r.pgid, KILLED_WAIT_MS))) log(`task ${r.taskId}: process group ${r.pgid} is still there after SIGKILL`)
        }
        ended.push(r)
      }
      await fs.rm(r.file, { force: true })
    }
    return ended
  }
}

/** Tasks whose ids become file names: anything but a plain id character is replaced. */
export function fileSafe (id: string): string {
  return id.replace(/[^A-Za-z0-9_.-]/g, '_')
}

/** Writes a file so that it survives a crash: temporary file, fsync, rename, directory fsync. */
async function writeDurably (dir: string, file: string, text: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = `${file}.tmp`
  const h = await fs.open(tmp, 'w', 0o600)
  try {
    await h.writeFile(text)
    await h.sync()
  } finally {
    await h.close()
  }
  await fs.rename(tmp, file)
  const d = await fs.open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
}

interface ProcStat { state: string, pgrp: number, startTime: string }

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
async function procStat (pid: number): Promise<ProcStat | undefined> {
  let text: string
  try { text = await fs.readFile(`/proc/${pid}/stat`, 'utf8') } catch { return undefined }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  // rest[0] is field 3 (state), rest[2] field 5 (pgrp), rest[19] field 22 (start time).
  return { state: rest[0] ?? '', pgrp: Number(rest[2]), startTime: rest[19] ?? '' }
}

const execFileAsync = promisify(execFile)

/** When `pid` started (an opaque string, compared for equality), or undefined when it is not running. */
export async function processStartTime (pid: number): Promise<string | undefined> {
  if (process.platform === 'linux') {
    const s = await procStat(pid)
    return s === undefined || s.state === 'Z' || s.state === 'X' ? undefined : s.startTime
  }
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'lstart=', '-p', String(pid)])
    return stdout.trim() === '' ? undefined : stdout.trim()
  } catch {
    return undefined
  }
}

/**
 * Whether a process of the recorded group is alive. Its first process, if alive, must have the
 * recorded start time (else the pid was reused: not ours). If it is gone, the group may live on
 * in its other processes; a pid is not reused while a group of that id exists.
 */
async function isOurGroupAlive (r: RunRecord): Promise<boolean> {
  const leader = await processStartTime(r.pgid)
  if (leader !== undefined) return leader === r.startTime
  return await groupAlive(r.pgid)
}

/** Whether any live (not zombie) process is in group `pgid`. */
export async function groupAlive (pgid: number): Promise<boolean> {
  if (process.platform === 'linux') {
    let pids: string[]
    try { pids = await fs.readdir('/proc') } catch { pids = [] }
    for (const p of pids) {
      if (!/^\d+$/.test(p)) continue
      const s = await procStat(Number(p))
      if (s !== undefined && s.pgrp === pgid && s.state !== 'Z' && s.state !== 'X') return true
    }
    return false
  }
  try { process.kill(-pgid, 0); return true } catch { return false }
}

/** Waits (checking every 50 ms) until group `pgid` is gone; false if it is still there after `ms`. */
async function groupGone (pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (!(await groupAlive(pgid))) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

function signalGroup (pgid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pgid, sig) } catch { /* already gone */ }
}
