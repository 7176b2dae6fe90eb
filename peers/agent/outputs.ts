// Outputs of a task: files created or changed under the writable granted folders while it
// ran, with size and sha256, and the text inline when it is small UTF-8 (for the phone).

import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { MAX_INLINE_OUTPUT_BYTES, MAX_OUTPUTS } from '../tasks/task-rules.ts'
import type { TaskOutput } from '../tasks/task-rules.ts'

const MAX_WALK_ENTRIES = 50_000
const SKIP_DIRS = new Set(['.git', 'node_modules'])

interface FileStamp { size: number, mtimeNs: bigint, ino: bigint }
export type FolderSnapshot = Map<string, FileStamp>

/** Size, mtime and inode of every regular file under `roots` (real paths; symlinks not followed). */
export async function snapshotFolders (roots: string[]): Promise<FolderSnapshot> {
  const snap: FolderSnapshot = new Map()
  let budget = MAX_WALK_ENTRIES
  const walk = async (dir: string): Promise<void> => {
    let entries
    try { entries = await fs.readdir(dir, { withFileTypes: true }) } catch { return }
    for (const e of entries) {
      if (budget-- <= 0) return
      const p = path.join(dir, e.name)
      if (e.isDirectory()) { if (!SKIP_DIRS.has(e.name)) await walk(p) } else if (e.isFile()) {
        try {
          const st = await fs.lstat(p, { bigint: true })
          snap.set(p, { size: Number(st.size), mtimeNs: st.mtimeNs, ino: st.ino })
        } catch { /* vanished */ }
      }
    }
  }
  for (const root of roots) {
    const real = await fs.realpath(root).catch(() => undefined)
    if (real !== undefined) await walk(real)
  }
  return snap
}

/**
 * Files new or changed within the spans of `marks` (snapshots taken at start, pause, return,
 * ..., end: the spans are 1st→2nd, 3rd→4th, ...; between a pause and a return another task had
 * the folder), in path order, at most MAX_OUTPUTS.
 */
export async function changedFiles (marks: FolderSnapshot[]): Promise<TaskOutput[]> {
  const set = new Set<string>()
  for (let i = 0; i + 1 < marks.length; i += 2) {
    const before = marks[i]!
    for (const [p, st] of marks[i + 1]!) {
      const old = before.get(p)
      if (old === undefined || old.size !== st.size || old.mtimeNs !== st.mtimeNs || old.ino !== st.ino) set.add(p)
    }
  }
  const changed = [...set].sort()
  const out: TaskOutput[] = []
  for (const p of changed.slice(0, MAX_OUTPUTS)) {
    const o = await describeFile(p)
    if (o !== undefined) out.push(o)
  }
  return out
}

export async function describeFile (p: string): Promise<TaskOutput | undefined> {
  let data: Buffer
  try {
    const st = await fs.stat(p)
    if (!st.isFile()) return undefined
    if (st.size > MAX_INLINE_OUTPUT_BYTES) return { path: p, size: st.size, sha256: await hashFile(p) }
    data = await fs.readFile(p)
  } catch { return undefined }
  const out: TaskOutput = { path: p, size: data.length, sha256: createHash('sha256').update(data).digest('hex') }
  const text = asText(data)
  if (text !== undefined) out.text = text
  return out
}

async function hashFile (p: string): Promise<string> {
  const h = createHash('sha256')
  const fh = await fs.open(p, 'r')
  // A failed close of a file only read loses nothing; the hash (or the read's own error) is what counts.
  try { for await (const chunk of fh.createReadStream()) h.update(chunk as Buffer) } finally { await fh.close().catch(() => {}) }
  return h.digest('hex')
}

/** The buffer as text when it is valid UTF-8 without NUL bytes (binary files are not inlined). */
function asText (data: Buffer): string | undefined {
  if (data.includes(0)) return undefined
  try { return new TextDecoder('utf-8', { fatal: true }).decode(data) } catch { return undefined }
}
