// examples/minimal-pair.ts: two processes pair by invite and end with the same note.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { join } from 'node:path'

const script = join(import.meta.dirname, 'minimal-pair.ts')

test('is under 40 lines', async () => {
  const lines = (await readFile(script, 'utf8')).trimEnd().split('\n').length
  assert.ok(lines < 40, `${lines} lines`)
})

test('the two processes pair, and both print the same note with both lines', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 60_000 })
  const both = 'the note reads "hello from first. hello from second."'
  assert.match(stdout, 'first: paired with "second"')
  assert.match(stdout, `first: ${both}`)
  assert.match(stdout, `second: ${both}`)
})

test.run()
