// `dispatch tasks`: the active tasks, or all (newest first, with status and duration), one
// status, or the archive of pruned ones.

import { withApp } from '../../device/reach.ts'
import { TASK_STATUSES } from '../../app/api.ts'
import type { TaskStatus } from '../../app/api.ts'
import { firstLine, formatDuration } from '../format.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'

export const tasks: Verb = {
  name: 'tasks',
  usage: '[--all] [--status S] [--archived]',
  summary: 'list tasks: active ones, or --all, --status S, --archived',
  options: {
    all: { type: 'boolean' },
    status: { type: 'string' },
    archived: { type: 'boolean' }
  },
  async run (ctx) {
    const status = ctx.values.status as string | undefined
    if (status !== undefined && !(TASK_STATUSES as readonly string[]).includes(status)) throw new UsageError(`--status takes one of ${TASK_STATUSES.join(', ')}`)
    const list = await withApp(ctx.home, { open: { listen: [], dialMembers: false }, readOnly: true }, async api => await api.tasks({
      all: ctx.values.all === true,
      archived: ctx.values.archived === true,
      ...(status !== undefined ? { status: status as TaskStatus } : {})
    }, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) {
      ctx.print(ctx.values.archived === true ? 'no archived tasks' : ctx.values.all === true || status !== undefined ? 'no tasks' : 'no active tasks (dispatch tasks --all shows finished ones)')
      return
    }
    // A `?` after the status: finished, but no signed receipt from its desktop proves the outcome.
    if (list.some(t => t.verified === false)) ctx.print('(? = unverified: no receipt from its desktop proves this outcome)')
    for (const t of list) {
      const status = t.verified === false ? `${t.status}?` : t.status
      ctx.print(`${t.id}  ${status.padEnd(11)} ${(t.targetName ?? t.target.slice(-8)).padEnd(14)} ${formatDuration(t.durationMs).padStart(9)}  ${firstLine(t.text, 60)}`)
    }
  }
}
