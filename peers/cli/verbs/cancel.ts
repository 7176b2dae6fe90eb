// `dispatch cancel TASK_ID`: ask the target desktop to stop a task (works offline: the request
// is saved and goes out at the next sync). A queued task then never runs.

import { withApp } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const cancel: Verb = {
  name: 'cancel',
  usage: 'TASK_ID',
  summary: 'cancel a task (queued: never runs; running: stops within 2 s)',
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const r = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.cancel({ id: ctx.positionals[0] }, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(r); return }
    if (r.alreadyFinished) ctx.print(`${r.id} already ${r.status}; nothing to cancel`)
    else ctx.print(`cancel requested for ${r.id} (${r.status}); its desktop stops it as soon as it gets the request`)
  }
}
