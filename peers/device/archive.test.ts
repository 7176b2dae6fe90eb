// The local archive of pruned tasks (archive.jsonl in the home).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, appendFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ArchiveFile } from './archive.ts'

const task = (id: string, status: string): any => ({ id, text: 't', status, target: 'd', createdAt: 1, createdBy: 'p', cancelRequested: false, attempt: 1, outputs: [], log: [], archivedAt: 2 })

test('archive: appended tasks list newest first, last record per id wins, a torn last line is skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'darc-'))
  try {
    const a = new ArchiveFile(dir)
    assert.equal(await a.list(), [])
    await a.append([task('01A', 'done'), task('01B', 'failed')])
    await a.append([task('01A', 'cancelled')])
    await appendFile(a.file, '{"id":"01C","tex')
    assert.equal((await a.list()).map(t => [t.id, t.status]), [['01B', 'failed'], ['01A', 'cancelled']])
  } finally { await rm(dir, { recursive: true, force: true }) }
})

test.run()
