// Replacing a small file so that a crash leaves either the old content or the new, never half:
// write a temporary file beside it, fsync it, rename it over the old one, fsync the directory.
// The one writer for every settings-like file (config.json, grants, the address book, the identity key).

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'

/** The file exists but is not the JSON object it should be. */
export class JsonFileError extends Error {
  name = 'JsonFileError'
}

let unique = 0

/** Atomically replace `path` with `data` (mode 0600 by default); resolves once it is durable. */
export async function writeFileAtomic (path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  // Unique per call, so two writers in one process never share a temporary file.
  const tmp = `${path}.${process.pid}.${unique++}.tmp`
  try {
    const file = await open(tmp, 'w', mode)
    try {
      await file.writeFile(data)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  // The rename itself is durable only once the directory entry is.
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Atomically replace `path` with `value` as pretty-printed JSON. */
export async function writeJsonFile (path: string, value: unknown, mode = 0o600): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', mode)
}

/** The JSON object in `path`; `undefined` when there is no such file; `JsonFileError` naming the file when it is not an object. */
export async function readJsonFile (path: string): Promise<Record<string, unknown> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new JsonFileError(`${path} is not valid JSON (${(err as Error).message}); fix or remove it`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JsonFileError(`${path} does not hold a JSON object; fix or remove it`)
  return value as Record<string, unknown>
}
