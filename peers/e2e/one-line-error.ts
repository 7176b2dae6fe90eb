// What every refused command must look like: its exit code, exactly one line on stderr starting
// `dispatch: ` and saying what happened, and no stack frames.

import * as assert from 'uvu/assert'
import type { RunResult } from './cli-process.ts'

export function expectOneLine (r: RunResult, code: number, says: RegExp): void {
  const lines = r.stderr.split('\n').filter(l => l !== '')
  assert.is(r.code, code, `exit code; stderr: ${r.stderr}`)
  assert.is(lines.length, 1, `one line on stderr:\n${r.stderr}`)
  assert.not.match(r.stderr, /^\s+at /m)
  assert.match(lines[0], /^dispatch: /, lines[0])
  assert.match(lines[0], says, lines[0])
}
