// `dispatch cancel TASK_ID`: ask the target desktop to stop a task (works offline: the request
// is saved and goes out at the next sync). A queued task then never runs.

import { callDevice } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const cancel: Verb = {
  name: 'cancel',
  usage: 'TASK_ID',
  summary: 'cancel a task (queued: never runs; running: stops within 2 s)',
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const r = await callDevice(ctx.home, 'cancel', { id: ctx.positionals[0] }, { open: { listen: [], connect: false }, signal: ctx.signal })
    if (ctx.json) { ctx.printJson(r); return }
    if (r.alreadyFinished === true) ctx.print(`${r.id} already ${r.status}; nothing to cancel`)
    else ctx.print(`cancel requested for ${r.id} (${r.status}); its desktop stops it as soon as it gets the request`)
  }
}
