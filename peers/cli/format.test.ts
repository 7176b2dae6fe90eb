// The CLI's formatting: the durations `prune --older-than` takes and `tasks` shows.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatDuration, parseDuration } from './format.ts'

test('prune durations', () => {
  assert.is(parseDuration('30d'), 30 * 86_400_000)
  assert.is(parseDuration('0s'), 0)
  assert.is(parseDuration('15m'), 900_000)
  assert.is(parseDuration('500ms'), 500)
  assert.ok(Number.isNaN(parseDuration('soon')))
})

test('durations shown', () => {
  assert.is(formatDuration(null), '-')
  assert.is(formatDuration(250), '250 ms')
  assert.is(formatDuration(1500), '1.5 s')
  assert.is(formatDuration(61_000), '1 min 1 s')
})

test.run()
