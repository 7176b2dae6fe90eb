// `dispatch prune --older-than 30d`: move finished tasks out of the live document into the
// home's archive (still shown by `show` and `tasks --archived`); the delete replicates.

import { withApp } from '../../device/reach.ts'
import { parseDuration } from '../format.ts'
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
    const r = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.prune({ olderThanMs }, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(r); return }
    ctx.print(`archived ${r.archived} finished task${r.archived === 1 ? '' : 's'}; removed ${r.removed} from the shared document (${r.docBytesBefore} -> ${r.docBytesAfter} bytes)`)
    if (r.keptForCreator > 0) ctx.print(`${r.keptForCreator} were added by another device and leave the document when that device prunes`)
  }
}
