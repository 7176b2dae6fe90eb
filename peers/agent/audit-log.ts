// The audit log: every tool call and permission decision, one JSON object per line in the
// home directory, appended and fsynced before the call it records is allowed to run.

import * as fs from 'node:fs/promises'
import * as path from 'node:path'

export const AUDIT_FILE = 'audit.jsonl'
const MAX_INPUT_CHARS = 4096

export interface AuditEntry {
  taskId: string
  /** Tool name (`read`, `write`, `bash`, `shell`, ...). */
  tool: string
  input: unknown
  /** `asked`: the call (or a question) went to the phone; the answer is a later entry with the same requestId. */
  decision: 'allowed' | 'denied' | 'asked'
  reason: string
  /** The tool call id of a request sent to the phone. */
  requestId?: string
  /** The device that answered (or `timeout`). */
  by?: string
}

export interface AuditRecord extends AuditEntry { at: string, seq: number }

export class AuditLog {
  readonly file: string
  #handle: fs.FileHandle
  #tail: Promise<unknown> = Promise.resolve()
  #seq = 0

  private constructor (file: string, handle: fs.FileHandle) {
    this.file = file
    this.#handle = handle
  }

  static async open (home: string): Promise<AuditLog> {
    await fs.mkdir(home, { recursive: true, mode: 0o700 })
    const file = path.join(home, AUDIT_FILE)
    return new AuditLog(file, await fs.open(file, 'a', 0o600))
  }

  /** Resolves once the entry is on disk (written and fsynced). Entries keep their call order. */
  append (entry: AuditEntry): Promise<void> {
    const record: AuditRecord = { at: new Date().toISOString(), seq: ++this.#seq, ...entry, input: clip(entry.input) }
    const line = JSON.stringify(record) + '\n'
    const done = this.#tail.then(async () => {
      await this.#handle.write(line)
      await this.#handle.sync()
    })
    // The tail only orders writes: each caller gets its own write's outcome from `done`.
    this.#tail = done.catch(() => {})
    return done
  }

  async close (): Promise<void> {
    await this.#tail
    await this.#handle.close()
  }
}

/** Every line of an audit file that parses (a torn last line after a crash is skipped). */
export async function readAudit (home: string): Promise<AuditRecord[]> {
  let text: string
  try { text = await fs.readFile(path.join(home, AUDIT_FILE), 'utf8') } catch { return [] }
  const out: AuditRecord[] = []
  for (const line of text.split('\n')) {
    if (line === '') continue
    try { out.push(JSON.parse(line) as AuditRecord) } catch { /* torn tail */ }
  }
  return out
}

/** Long inputs (file contents written by a tool) are clipped: the log records the call, not the data. */
function clip (input: unknown): unknown {
  if (typeof input === 'string') return input.length > MAX_INPUT_CHARS ? input.slice(0, MAX_INPUT_CHARS) + `…[${input.length} chars]` : input
  if (Array.isArray(input)) return input.slice(0, 50).map(clip)
  if (typeof input === 'object' && input !== null) {
    return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, clip(v)]))
  }
  return input
}
