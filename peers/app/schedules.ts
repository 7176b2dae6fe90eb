// The schedule use cases: add a schedule, list them (next run, last run), pause, resume,
// delete. The phone writes schedules; the target desktop runs them (peers/schedules/scheduler.ts).

import type { AddScheduleInput, AddScheduleResult, ScheduleView } from './api.ts'
import type { AppContext } from './context.ts'
import { DELIVERY_WAIT_MS, resolveTarget } from './tasks.ts'
import { deliver } from './delivery.ts'
import { describeSpec, parseScheduleInput } from '../schedules/spec.ts'
import type { Schedule } from '../schedules/schedule-board.ts'
import { nextRunOf } from '../schedules/scheduler.ts'

/** How long pause / resume / delete try to reach the target so the change leaves at once. */
const CHANGE_REACH_MS = 2_000

export async function addSchedule (ctx: AppContext, input: AddScheduleInput): Promise<AddScheduleResult> {
  const spec = parseScheduleInput(input, ctx.device.now())
  const target = await resolveTarget(ctx, input.to)
  const s = ctx.schedules.add({ text: input.text, target: target.peerId, spec, ...(input.scope !== undefined ? { scope: input.scope } : {}) })
  await ctx.device.space.flush()
  const reached = await deliver(ctx, target.peerId, input.deliverMs ?? DELIVERY_WAIT_MS)
  return { schedule: view(ctx, s), reached }
}

export async function listSchedules (ctx: AppContext): Promise<ScheduleView[]> {
  return ctx.schedules.list().map(s => view(ctx, s))
}

export async function setSchedulePaused (ctx: AppContext, input: { id: string }, paused: boolean): Promise<ScheduleView> {
  const s = ctx.schedules.setPaused(ctx.schedules.find(input.id).id, paused)
  await ctx.device.space.flush()
  await deliver(ctx, s.target, CHANGE_REACH_MS)
  return view(ctx, s)
}

export async function deleteSchedule (ctx: AppContext, input: { id: string }): Promise<{ id: string, deleted: true }> {
  const s = ctx.schedules.find(input.id)
  ctx.schedules.remove(s.id)
  await ctx.device.space.flush()
  await deliver(ctx, s.target, CHANGE_REACH_MS)
  return { id: s.id, deleted: true }
}

function view (ctx: AppContext, s: Schedule): ScheduleView {
  const entry = s.history.at(-1)
  const last = entry === undefined
    ? null
    : {
        slot: entry.slot,
        kind: entry.kind,
        // A started run goes on as a task: its status now says more than "started".
        status: entry.taskId !== undefined ? (ctx.board.get(entry.taskId)?.status ?? entry.kind) : entry.kind,
        ...(entry.taskId !== undefined ? { taskId: entry.taskId } : {}),
        text: entry.text
      }
  return {
    id: s.id,
    text: s.text,
    target: s.target,
    targetName: ctx.device.space.members.get(s.target)?.name ?? null,
    ...(s.scope !== undefined ? { scope: s.scope } : {}),
    spec: s.spec,
    when: describeSpec(s.spec),
    paused: s.paused,
    createdAt: s.createdAt,
    createdBy: s.createdBy,
    nextRunAt: nextRunOf(s),
    last,
    taskIds: ctx.board.list().filter(t => t.scheduleId === s.id).map(t => t.id),
    history: s.history
  }
}
