// `dispatch tasks`: the active tasks, or all (newest first, with status and duration), one
// status, or the archive of pruned ones.

import { callDevice } from '../../device/reach.ts'
import { TASK_STATUSES } from '../../tasks/task-rules.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'
import { formatDuration } from './show.ts'

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
    const list = await callDevice(ctx.home, 'tasks', { all: ctx.values.all === true, archived: ctx.values.archived === true, ...(status !== undefined ? { status } : {}) }, {
      open: { listen: [], connect: false },
      signal: ctx.signal
    }) as any[]
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) {
      ctx.print(ctx.values.archived === true ? 'no archived tasks' : ctx.values.all === true || status !== undefined ? 'no tasks' : 'no active tasks (dispatch tasks --all shows finished ones)')
      return
    }
    for (const t of list) {
      const text = String(t.text).split('\n')[0]
      ctx.print(`${t.id}  ${String(t.status).padEnd(11)} ${String(t.targetName ?? String(t.target).slice(-8)).padEnd(14)} ${formatDuration(t.durationMs).padStart(9)}  ${text.length > 60 ? text.slice(0, 59) + '…' : text}`)
    }
  }
}
