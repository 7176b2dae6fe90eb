// `dispatch schedules`: every schedule with its next run and its last run (and that run's
// status); `dispatch schedules pause|resume|delete ID` change one (the desktop sees it at the
// next sync). The use cases are in peers/app/schedules.ts (the web app calls the same).

import { withApp } from '../../device/reach.ts'
import { firstLine, formatTime } from '../format.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'

const ACTIONS = ['pause', 'resume', 'delete'] as const
type Action = typeof ACTIONS[number]

export const schedules: Verb = {
  name: 'schedules',
  usage: '[pause|resume|delete ID]',
  summary: 'list schedules (next run, last run and its status), or pause, resume or delete one',
  positionals: { min: 0, max: 2 },
  async run (ctx) {
    const [action, id] = ctx.positionals
    if (action !== undefined) {
      if (!(ACTIONS as readonly string[]).includes(action) || id === undefined) throw new UsageError('schedules takes nothing (list), or pause, resume or delete and a schedule id')
      const r = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => {
        switch (action as Action) {
          case 'pause': return await api.pauseSchedule({ id }, { signal: ctx.signal })
          case 'resume': return await api.resumeSchedule({ id }, { signal: ctx.signal })
          case 'delete': return await api.deleteSchedule({ id }, { signal: ctx.signal })
        }
      })
      if (ctx.json) { ctx.printJson(r); return }
      ctx.print(`${action === 'delete' ? 'deleted' : action === 'pause' ? 'paused' : 'resumed'} ${r.id}; the desktop follows at the next sync`)
      return
    }
    const list = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.schedules({}, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) { ctx.print('no schedules (dispatch add TEXT --every 1h, --cron EXPR or --at TIME makes one)'); return }
    for (const s of list) {
      const next = s.paused ? 'paused' : s.nextRunAt === null ? 'no more runs' : `next ${formatTime(s.nextRunAt)}`
      const last = s.last === null ? 'never ran' : `last ${formatTime(s.last.slot)} ${s.last.status}`
      ctx.print(`${s.id}  ${(s.targetName ?? s.target.slice(-8)).padEnd(14)} ${s.when.padEnd(24)} ${next.padEnd(25)} ${last.padEnd(30)} ${firstLine(s.text, 40)}`)
    }
  }
}
