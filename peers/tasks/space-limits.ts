// The limits the Dispatch app gives its space (core/sync/limits.ts): only the `tasks` and
// `schedules` maps besides the engine's own types, each task field at most its cap (with room for
// the truncation mark and JSON), and the space and each update bounded, so one member cannot bloat
// every replica.

import type { SpaceLimits } from '../../core/index.ts'
import {
  MAX_TEXT_CHARS, MAX_ID_CHARS, MAX_SCOPE_CHARS, MAX_RESULT_CHARS, MAX_ERROR_CHARS, MAX_LOG_TEXT_CHARS, MAX_OUTPUTS, MAX_INLINE_OUTPUT_BYTES
} from './task-rules.ts'

/** Room for a truncation mark or JSON quoting around a capped string. */
const SLACK = 64

export const TASK_SPACE_LIMITS: SpaceLimits = {
  allowedTypes: ['tasks', 'schedules'],
  // Log entries and receipts are small objects; anything larger than this is no task data.
  maxValueSize: 64 * 1024,
  fieldSizes: {
    text: MAX_TEXT_CHARS * 2 + SLACK,
    target: MAX_ID_CHARS + SLACK,
    createdBy: MAX_ID_CHARS + SLACK,
    scope: MAX_SCOPE_CHARS + SLACK,
    result: MAX_RESULT_CHARS + SLACK,
    error: MAX_ERROR_CHARS + SLACK,
    message: MAX_LOG_TEXT_CHARS + SLACK,
    // Base64 inline outputs (4/3 of their bytes) plus their names and digests, JSON-escaped.
    outputs: MAX_OUTPUTS * (Math.ceil(MAX_INLINE_OUTPUT_BYTES * 4 / 3) + 1024)
  },
  maxUpdateBytes: 32 * 1024 * 1024,
  maxSpaceBytes: 1024 * 1024 * 1024
}
