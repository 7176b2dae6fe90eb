// The home's refusal log: one JSON object per line in refusals.jsonl, appended in call order,
// read back for the per-member warning counts of `dispatch devices`.

import * as fs from 'node:fs/promises'
import { join } from 'node:path'
import type { Refusal, RefusalLog } from '../app/refusals.ts'
import { countByPeer } from '../app/refusals.ts'

export const REFUSAL_FILE = 'refusals.jsonl'

export class RefusalLogFile implements RefusalLog {
  readonly file: string
  #tail: Promise<unknown> = Promise.resolve()

  constructor (home: string) {
    this.file = join(home, REFUSAL_FILE)
  }

  append (refusal: Refusal): Promise<void> {
    const write = this.#tail.then(async () => { await fs.appendFile(this.file, JSON.stringify(refusal) + '\n', { mode: 0o600 }) })
    // The tail only orders appends: each caller gets its own append's outcome from `write`.
    this.#tail = write.catch(() => {})
    return write
  }

  async counts (): Promise<Map<string, number>> {
    let text: string
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map()
      throw err
    }
    const all: Refusal[] = []
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue
      // A torn last line (a crash mid-append) is skipped.
      try { const r = JSON.parse(line) as Refusal; if (typeof r?.peer === 'string') all.push(r) } catch { /* torn line: never acknowledged */ }
    }
    return countByPeer(all)
  }
}
