// `npm run quickstart` runs the quickstart: two processes must end up with the same note.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'

test('the quickstart syncs a note between two processes and says so', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(import.meta.dirname, 'quickstart.ts')], { timeout: 180_000 })
  assert.match(stdout, /\[laptop\] {2}received the reply: "desktop started the note\. laptop was here\. desktop replies\. "/)
  assert.match(stdout, /both devices hold the same document/)
})

test.run()
