// `dispatch demo` as a newcomer runs it: one process, exits 0, tells the story, cleans up.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { access } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dispatch } from './cli-process.ts'

test('dispatch demo exits 0: paired, queued offline, ran on the desktop, results back, cleaned up', async () => {
  const r = await dispatch(join(tmpdir(), 'dispatch-demo-unused-home'), ['demo'], { timeoutMs: 60_000 })
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /paired "demo-phone" with "demo-desktop"/)
  assert.match(r.stdout, /delivered: false/)
  assert.match(r.stdout, /done on the desktop in \d+ ms -> hello from your desktop/)
  assert.match(r.stdout, /results are back on the phone/)
  const dir = /cleaned up (\S+)/.exec(r.stdout)?.[1]
  assert.ok(dir !== undefined)
  assert.is(await access(dir).then(() => true, () => false), false)
})

test.run()
