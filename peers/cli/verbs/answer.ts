// `dispatch approve ID [--for-task]`, `dispatch deny ID [--note TEXT]`, `dispatch reply ID TEXT`:
// answer what a task waits for on the phone (a tool call outside the grants, Claude's question),
// or follow up on a finished task. Saved here first, so it works offline: the answer takes
// effect when it reaches the desktop. The use cases are in peers/app/tasks.ts (the web app's
// buttons call the same).

import { withApp } from '../../device/reach.ts'
import type { AnswerResult } from '../../app/api.ts'
import type { Verb, VerbContext } from '../verb.ts'

const APP = { open: { listen: [], dialMembers: false } }

function sent (ctx: VerbContext, r: AnswerResult, what: string): void {
  if (ctx.json) { ctx.printJson(r); return }
  ctx.print(r.delivered
    ? `${what} for ${r.id}; its desktop has it`
    : `${what} for ${r.id}, saved on this device; it takes effect when the desktop gets it (dispatch sync, or keep dispatch watch running)`)
}

export const approve: Verb = {
  name: 'approve',
  usage: 'TASK_ID [--for-task]',
  summary: 'allow the tool call a task waits on (--for-task: such calls for the rest of the task)',
  options: { 'for-task': { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const forTask = ctx.values['for-task'] === true
    const r = await withApp(ctx.home, APP, async api => await api.approve({ id: ctx.positionals[0], forTask }, { signal: ctx.signal }))
    sent(ctx, r, forTask ? 'approved for the rest of the task' : 'approved once')
  }
}

export const deny: Verb = {
  name: 'deny',
  usage: 'TASK_ID [--note TEXT]',
  summary: 'refuse the tool call a task waits on (Claude reads the note)',
  options: { note: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run (ctx) {
    const note = ctx.values.note as string | undefined
    const r = await withApp(ctx.home, APP, async api => await api.deny({ id: ctx.positionals[0], ...(note !== undefined ? { note } : {}) }, { signal: ctx.signal }))
    sent(ctx, r, 'denied')
  }
}

export const reply: Verb = {
  name: 'reply',
  usage: 'TASK_ID TEXT',
  summary: 'answer the question a task asks, or follow up on a finished task',
  positionals: { min: 2, max: Infinity },
  async run (ctx) {
    const [id, ...words] = ctx.positionals
    const r = await withApp(ctx.home, APP, async api => await api.reply({ id, text: words.join(' ') }, { signal: ctx.signal }))
    if (r.kind === 'answer') { sent(ctx, r, 'answered'); return }
    if (ctx.json) { ctx.printJson(r); return }
    ctx.print(`follow-up ${r.id} of ${r.parent} queued for "${r.targetName}"${r.delivered ? '; delivered' : '; it goes out at the next sync'}`)
  }
}
