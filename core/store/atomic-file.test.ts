// The one writer of small files: atomic (old or new content, never half), owner-only, no
// temporary file left behind, and a clear error naming a file that is not a JSON object.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readdir, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readJsonFile, writeFileAtomic, writeJsonFile } from './atomic-file.ts'

test('writes, replaces, 0600, creates the directory, leaves no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-atomic-'))
  try {
    const path = join(dir, 'nested', 'config.json')
    await writeJsonFile(path, { a: 1 })
    await writeJsonFile(path, { a: 2, b: 'x' })
    assert.equal(await readJsonFile(path), { a: 2, b: 'x' })
    assert.is((await stat(path)).mode & 0o777, 0o600)
    await writeFileAtomic(join(dir, 'nested', 'key'), new Uint8Array([1, 2, 3]))
    assert.equal([...await readFile(join(dir, 'nested', 'key'))], [1, 2, 3])
    assert.equal((await readdir(join(dir, 'nested'))).sort(), ['config.json', 'key'])
    // Concurrent writers in one process never share a temporary file: the last rename wins whole.
    await Promise.all(Array.from({ length: 20 }, async (_, i) => await writeJsonFile(path, { i })))
    assert.type((await readJsonFile(path))?.i, 'number')
    assert.equal(await readdir(join(dir, 'nested')), ['config.json', 'key'])
  } finally { await rm(dir, { recursive: true, force: true }) }
})

test('a missing file is undefined; junk or a non-object is a JsonFileError naming the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-atomic-'))
  try {
    assert.is(await readJsonFile(join(dir, 'none.json')), undefined)
    for (const junk of ['{"a":', '[1,2]', '"text"']) {
      await writeFile(join(dir, 'bad.json'), junk)
      try {
        await readJsonFile(join(dir, 'bad.json'))
        assert.unreachable(`accepted ${junk}`)
      } catch (err) {
        assert.is((err as Error).name, 'JsonFileError')
        assert.match((err as Error).message, 'bad.json')
      }
    }
    // A failed write (the target is a directory) leaves the directory as it was.
    await mkdir(join(dir, 'taken.json'))
    try { await writeJsonFile(join(dir, 'taken.json'), {}); assert.unreachable('wrote over a directory') } catch (err) { assert.ok(err instanceof Error) }
    assert.equal((await readdir(dir)).sort(), ['bad.json', 'taken.json'])
  } finally { await rm(dir, { recursive: true, force: true }) }
})

test.run()
