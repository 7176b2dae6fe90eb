// `dispatch show TASK_ID`: one task (id prefix ok) from the live document or the archive,
// with its status, result, outputs and log.

import { withApp } from '../../device/reach.ts'
import { describeTask } from '../format.ts'
import type { Verb } from '../verb.ts'

export const show: Verb = {
  name: 'show',
  usage: 'TASK_ID',
  summary: 'show one task: status, result, outputs, log (id prefix ok)',
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const task = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.show({ id: ctx.positionals[0] }, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(task); return }
    ctx.print(describeTask(task).join('\n'))
  }
}
