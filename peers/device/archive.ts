// The local history archive: finished tasks pruned from the live document (by this device or
// by another member), one JSON object per line in the home, fsynced, still readable by verbs.

import * as fs from 'node:fs/promises'
import { join } from 'node:path'
import type { ArchivedTask, TaskArchive } from '../app/ports.ts'

export const ARCHIVE_FILE = 'archive.jsonl'

export class ArchiveFile implements TaskArchive {
  readonly file: string
  #tail: Promise<unknown> = Promise.resolve()

  constructor (home: string) {
    this.file = join(home, ARCHIVE_FILE)
  }

  /** Appends `tasks` and resolves once they are on disk. Appends keep their call order. */
  append (tasks: ArchivedTask[]): Promise<void> {
    if (tasks.length === 0) return this.#tail.then(() => {})
    const text = tasks.map(t => JSON.stringify(t)).join('\n') + '\n'
    const write = this.#tail.then(async () => {
      const handle = await fs.open(this.file, 'a', 0o600)
      try {
        await handle.writeFile(text)
        await handle.sync()
      } finally {
        await handle.close()
      }
    })
    // The tail only orders appends: each caller gets its own append's outcome from `write`.
    this.#tail = write.catch(() => {})
    return write
  }

  /** Every archived task, one per id (the last record wins), newest first. A torn last line is skipped. */
  async list (): Promise<ArchivedTask[]> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    const byId = new Map<string, ArchivedTask>()
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      try {
        const t = JSON.parse(line) as ArchivedTask
        if (typeof t?.id === 'string') byId.set(t.id, t)
      } catch {
        // A torn line (a crash mid-append): that record was never acknowledged; the rest stands.
      }
    }
    return [...byId.values()].sort((a, b) => a.id < b.id ? 1 : a.id > b.id ? -1 : 0)
  }
}
