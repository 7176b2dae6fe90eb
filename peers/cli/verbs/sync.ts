// `dispatch sync`: connect to the paired devices, exchange changes, exit. With --follow,
// stay connected and report sync events until interrupted (what an open phone app does).

import { withApp } from '../../device/reach.ts'
import type { FollowEvent } from '../../app/api.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'

export const sync: Verb = {
  name: 'sync',
  usage: '[--timeout SECONDS] [--follow]',
  summary: 'sync with paired devices now (or keep syncing with --follow)',
  options: {
    timeout: { type: 'string' },
    follow: { type: 'boolean' }
  },
  async run (ctx) {
    const timeout = ctx.values.timeout === undefined ? 10 : Number(ctx.values.timeout)
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout takes a positive number of seconds')
    const open = { listen: [], dialMembers: false }
    if (ctx.values.follow === true) {
      const onEvent = (event: FollowEvent): void => {
        if (ctx.json) ctx.printJson(event)
        else ctx.note(`${event.event} ${event.name} ${'reason' in event ? event.reason ?? '' : ''}`.trim())
      }
      await withApp(ctx.home, { open, serve: true }, async api => await api.follow({}, { signal: ctx.signal, onEvent }))
      return
    }
    const result = await withApp(ctx.home, { open }, async api => await api.sync({ timeoutMs: Math.round(timeout * 1000) }, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(result); return }
    for (const s of result.synced) ctx.print(`in sync with "${s.name}"`)
    for (const f of result.failed) ctx.note(f.error)
  }
}
