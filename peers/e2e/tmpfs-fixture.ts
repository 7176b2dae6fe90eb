// A small tmpfs for the full-disk scenarios: mounted for one test file (root only), filled up
// to leave a given room, emptied by deleting the filler, unmounted at the end. `fullDiskScene`
// is a test file's whole setting: a temporary root holding the tmpfs, the processes started
// there, and one `close` that ends them, unmounts and removes it all.

import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, open, rm, stat, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DispatchProcess } from './cli-process.ts'

export interface Tmpfs {
  dir: string
  /** Fills the disk, then gives back `room` bytes: the next few writes fit, later ones do not. */
  fill: (room: number) => Promise<void>
  /** Deletes the filler: room again. */
  free: () => Promise<void>
  unmount: () => void
}

/** Mounts a tmpfs of `size` (e.g. '2m') at `dir`; or the reason this machine does not let us. */
export async function mountTmpfs (dir: string, size: string): Promise<Tmpfs | { skipped: string }> {
  if (process.platform !== 'linux') return { skipped: `tmpfs needs Linux (this is ${process.platform})` }
  await mkdir(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' })
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0]
    return { skipped: `cannot mount a tmpfs here (${why !== '' ? why : (err as Error).message.split('\n')[0]}); run as root to test a full disk` }
  }
  const filler = join(dir, 'filler')
  return {
    dir,
    async fill (room) {
      const file = await open(filler, 'w')
      const chunk = Buffer.alloc(64 * 1024)
      try {
        for (;;) await file.write(chunk)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
      } finally {
        await file.close()
      }
      await truncate(filler, Math.max(0, (await stat(filler)).size - room))
    },
    async free () {
      await rm(filler, { force: true })
    },
    unmount () {
      // Lazily if something still has a file open there: the mount goes once it is closed.
      try { execFileSync('umount', [dir], { stdio: 'pipe' }) } catch { execFileSync('umount', ['-l', dir], { stdio: 'pipe' }) }
    }
  }
}

export interface FullDiskScene {
  /** A temporary folder for the homes that are not on the small disk. */
  root: string
  /** The small disk (at `<root>/tmpfs`), or null when this machine cannot mount one. */
  disk: Tmpfs | null
  /** Why there is no disk (the tests report themselves skipped with it). */
  skipped: string | null
  /** Processes to kill at `close` if a test left them running. */
  running: Set<DispatchProcess>
  close: () => Promise<void>
}

/** A temporary root named `prefix…` with a tmpfs of `size` in it (see `FullDiskScene`). */
export async function fullDiskScene (prefix: string, size = '2m'): Promise<FullDiskScene> {
  const root = await mkdtemp(join(tmpdir(), prefix))
  const mounted = await mountTmpfs(join(root, 'tmpfs'), size)
  const disk = 'skipped' in mounted ? null : mounted
  const running = new Set<DispatchProcess>()
  return {
    root,
    disk,
    skipped: 'skipped' in mounted ? mounted.skipped : null,
    running,
    async close () {
      for (const p of running) p.child.kill('SIGKILL')
      await Promise.all(Array.from(running).map(async p => await p.exited))
      disk?.unmount()
      await rm(root, { recursive: true, force: true })
    }
  }
}
