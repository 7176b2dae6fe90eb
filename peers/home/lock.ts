// One process holds a home at a time: a lock file created exclusively, holding its pid.
// A lock left by a dead process (kill -9, crash, reboot) is detected and taken over.

import { open, readFile, rename, link, unlink } from 'node:fs/promises'
import { readFileSync, unlinkSync } from 'node:fs'
import { ensureHomeDir } from './layout.ts'

export class HomeBusyError extends Error {
  name = 'HomeBusyError'
  pid: number
  constructor (dir: string, pid: number) {
    super(`home ${dir} is in use by process ${pid}`)
    this.pid = pid
  }
}

export interface HomeLock {
  dir: string
  /** Removes the lock file if it is still ours. Also runs on normal process exit. */
  release (): Promise<void>
}

/** A handful of rounds is enough: each one either takes the lock, finds a live holder, or clears a dead one. */
const MAX_ATTEMPTS = 5

export async function lockHome (dir: string): Promise<HomeLock> {
  const layout = await ensureHomeDir(dir)
  const path = layout.lock
  const mine = `${process.pid}\n`
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      try {
        await fh.writeFile(mine)
        await fh.sync()
      } catch (err) {
        // A full disk: the file was created but holds no pid. Leave no empty lock behind. Both
        // clean-ups are best effort: the write's error is the one reported, and an empty lock left
        // behind is taken over by the next opener (it names no live process).
        await fh.close().catch(() => {})
        await unlink(path).catch(() => {}) // best effort, as above
        throw err
      }
      await fh.close()
      return holdLock(layout.dir, path, mine)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const content = await readOrEmpty(path)
    const pid = parsePid(content)
    // An empty file is a holder between create and write: give it the benefit of the doubt once.
    if (content === '' && attempt === 0) { await new Promise(resolve => setTimeout(resolve, 20)); continue }
    if (pid !== undefined && isAlive(pid)) throw new HomeBusyError(layout.dir, pid)
    await breakStaleLock(path, content)
  }
  const pid = parsePid(await readOrEmpty(path))
  throw new HomeBusyError(layout.dir, pid ?? 0)
}

/**
 * Moves the stale file aside atomically, then checks it was the one we judged stale:
 * if another process took the lock in between, we moved its live lock, so we put it back.
 */
async function breakStaleLock (path: string, staleContent: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`
  try {
    await rename(path, aside)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  const moved = await readOrEmpty(aside)
  if (moved !== staleContent) {
    try { await link(aside, path) } catch { /* a third process holds it now; it wins */ }
  }
  // The aside copy is ours alone and outside the lock protocol: one left behind is only litter.
  await unlink(aside).catch(() => {})
}

function holdLock (dir: string, path: string, mine: string): HomeLock {
  let released = false
  // Synchronous: the 'exit' event allows no async work.
  const onExit = (): void => {
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path)
    } catch {
      // At exit nothing can be done about it: the next opener finds our dead pid and takes the lock over.
    }
  }
  process.on('exit', onExit)
  return {
    dir,
    async release () {
      if (released) return
      released = true
      process.off('exit', onExit)
      // Gone already (ENOENT) or unremovable: a stale lock with our dead pid is taken over by the next opener.
      if (await readOrEmpty(path) === mine) await unlink(path).catch(() => {})
    }
  }
}

async function readOrEmpty (path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw err
  }
}

function parsePid (content: string): number | undefined {
  const pid = Number(content.trim())
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists but belongs to another user; still a live holder.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
