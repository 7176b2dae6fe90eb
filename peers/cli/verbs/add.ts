// `dispatch add TEXT`: queue a task for a desktop. Saved on disk before it says "queued";
// delivered when the target desktop acknowledged receipt, else it goes out at the next sync.
// The use case is `add` in peers/app/tasks.ts (the web app's Add button calls the same).

import { resolve } from 'node:path'
import { withApp } from '../../device/reach.ts'
import { describeTask } from '../format.ts'
import type { Verb } from '../verb.ts'

export class TaskFailedError extends Error {
  name = 'TaskFailedError'
}

export const add: Verb = {
  name: 'add',
  usage: 'TEXT [--to DEVICE] [--in DIR] [--wait]',
  summary: 'add a task for a desktop (works offline; `$ cmd` runs a shell command)',
  options: {
    to: { type: 'string' },
    in: { type: 'string' },
    wait: { type: 'boolean' }
  },
  positionals: { min: 1, max: Infinity },
  async run (ctx) {
    const text = ctx.positionals.join(' ')
    const dir = ctx.values.in as string | undefined
    const to = ctx.values.to as string | undefined
    const wait = ctx.values.wait === true
    const result = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.add({
      text,
      ...(to !== undefined ? { to } : {}),
      ...(dir !== undefined ? { scope: resolve(dir) } : {}),
      wait
    }, {
      signal: ctx.signal,
      onEvent: event => {
        if (ctx.json) return
        if (event.event === 'queued') ctx.print(`queued ${event.id} for "${event.targetName}" (saved on this device)`)
        else if (event.event === 'status' && wait) ctx.note(`${event.id} ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`)
      }
    }))
    if (ctx.json) {
      ctx.printJson(result)
    } else if (result.delivered) {
      ctx.print(`delivered to "${result.targetName}"`)
    } else {
      ctx.print(`not delivered yet: "${result.targetName}" is not reachable now; the task stays queued on this device and goes out at the next sync (dispatch sync, or keep dispatch watch running)`)
    }
    if (wait && result.task !== undefined) {
      if (!ctx.json) ctx.print(describeTask(result.task).join('\n'))
      if (result.task.status !== 'done') throw new TaskFailedError(`task ${result.id} ${result.task.status}${result.task.error !== undefined ? `: ${result.task.error}` : ''}`)
    }
  }
}
