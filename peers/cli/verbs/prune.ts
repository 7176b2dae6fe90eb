// `dispatch prune --older-than 30d`: move finished tasks out of the live document into the
// home's archive (still shown by `show` and `tasks --archived`); the delete replicates.

import { callDevice } from '../../device/reach.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'

export const prune: Verb = {
  name: 'prune',
  usage: '[--older-than DURATION]   (e.g. 30d, 12h, 0s; default 30d)',
  summary: 'archive finished tasks older than a duration and drop them from the shared document',
  options: {
    'older-than': { type: 'string' }
  },
  async run (ctx) {
    const text = (ctx.values['older-than'] as string | undefined) ?? '30d'
    const olderThanMs = parseDuration(text)
    if (!Number.isFinite(olderThanMs) || olderThanMs < 0) throw new UsageError('--older-than takes a duration such as 30d, 12h, 15m or 0s')
    const r = await callDevice(ctx.home, 'prune', { olderThanMs }, { open: { listen: [], connect: false }, signal: ctx.signal })
    if (ctx.json) { ctx.printJson(r); return }
    ctx.print(`archived ${r.archived} finished task${r.archived === 1 ? '' : 's'}; removed ${r.removed} from the shared document (${r.docBytesBefore} -> ${r.docBytesAfter} bytes)`)
    if (r.keptForCreator > 0) ctx.print(`${r.keptForCreator} were added by another device and leave the document when that device prunes`)
  }
}

/** `30d`, `12h`, `15m`, `10s`, `500ms`, `0s` (a bare number is seconds) in milliseconds; NaN otherwise. */
export function parseDuration (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim())
  if (m === null) return NaN
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 's') as 'ms']
  return Number(m[1]) * unit
}
