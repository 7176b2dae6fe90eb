// The application API implemented on one device: each method of `DispatchApi` is one use case,
// run in this process. The CLI uses it directly (or through the process holding the home,
// over the control socket); the web page uses it in the page. The task board it owns is the
// one the desktop agent works on.

import type {
  AddScheduleInput, AddScheduleResult, ScheduleView,
  AddEvent, AddInput, AddResult, AnswerResult, FetchOutputsResult, ApproveInput, CallOptions, DenyInput, ReplyInput, ReplyResult, CancelResult, DeviceRef, DeviceView, DispatchApi, FollowEvent, JoinResult,
  PairEvent, PairInput, PruneResult, RevokeInput, RevokeResult, StatusResult, SyncResult, TaskDetail, TaskSummary, TasksInput, WatchEvent
} from './api.ts'
import { AppContext } from './context.ts'
import type { DeviceRuntime } from './ports.ts'
import type { Refusal } from './refusals.ts'
import type { TaskBoard } from '../tasks/task-board.ts'
import { deviceStatus, listDevices, revokeDevice, setDefaultDesktop } from './devices.ts'
import { joinDesktop, pairDevice } from './pairing.ts'
import { followSync, syncOnce } from './sync.ts'
import { addSchedule, deleteSchedule, listSchedules, setSchedulePaused } from './schedules.ts'
import type { ScheduleBoard } from '../schedules/schedule-board.ts'
import { addTask, approveTask, cancelTask, denyTask, fetchTaskOutputs, listTasks, pruneTasks, replyTask, showTask, watchTasks } from './tasks.ts'

export class Application implements DispatchApi {
  readonly device: DeviceRuntime
  readonly #ctx: AppContext
  /** Listen to what this device refuses from other members; returns the function that stops listening (not a use case: a property). */
  readonly onRefusal: (listener: (refusal: Refusal) => void) => () => void

  constructor (device: DeviceRuntime) {
    this.device = device
    this.#ctx = new AppContext(device)
    this.onRefusal = listener => this.#ctx.onRefusal(listener)
  }

  /** The device's one task board (the desktop agent claims and runs tasks on it). */
  get board (): TaskBoard {
    return this.#ctx.board
  }

  /** The device's schedule board (the desktop's scheduler runs the schedules addressed to it). */
  get scheduleBoard (): ScheduleBoard {
    return this.#ctx.schedules
  }

  async status (_input?: Record<string, never>, _options?: CallOptions): Promise<StatusResult> { return await deviceStatus(this.#ctx) }
  async devices (input: { includeSelf?: boolean }, _options?: CallOptions): Promise<DeviceView[]> { return await listDevices(this.#ctx, input) }
  async setDefault (input: { device: string }, _options?: CallOptions): Promise<DeviceRef> { return await setDefaultDesktop(this.#ctx, input) }
  async revoke (input: RevokeInput, _options?: CallOptions): Promise<RevokeResult> { return await revokeDevice(this.#ctx, input) }
  async pair (input: PairInput, options?: CallOptions<PairEvent>): Promise<DeviceRef> { return await pairDevice(this.#ctx, input, options) }
  async join (input: { invite: string }, options?: CallOptions): Promise<JoinResult> { return await joinDesktop(this.#ctx, input, options) }
  async add (input: AddInput, options?: CallOptions<AddEvent>): Promise<AddResult> { return await addTask(this.#ctx, input, options) }
  async addSchedule (input: AddScheduleInput, _options?: CallOptions): Promise<AddScheduleResult> { return await addSchedule(this.#ctx, input) }
  async schedules (_input?: Record<string, never>, _options?: CallOptions): Promise<ScheduleView[]> { return await listSchedules(this.#ctx) }
  async pauseSchedule (input: { id: string }, _options?: CallOptions): Promise<ScheduleView> { return await setSchedulePaused(this.#ctx, input, true) }
  async resumeSchedule (input: { id: string }, _options?: CallOptions): Promise<ScheduleView> { return await setSchedulePaused(this.#ctx, input, false) }
  async deleteSchedule (input: { id: string }, _options?: CallOptions): Promise<{ id: string, deleted: true }> { return await deleteSchedule(this.#ctx, input) }
  async tasks (input: TasksInput, _options?: CallOptions): Promise<TaskSummary[]> { return await listTasks(this.#ctx, input) }
  async show (input: { id: string }, _options?: CallOptions): Promise<TaskDetail> { return await showTask(this.#ctx, input) }
  async cancel (input: { id: string }, _options?: CallOptions): Promise<CancelResult> { return await cancelTask(this.#ctx, input) }
  async approve (input: ApproveInput, _options?: CallOptions): Promise<AnswerResult> { return await approveTask(this.#ctx, input) }
  async deny (input: DenyInput, _options?: CallOptions): Promise<AnswerResult> { return await denyTask(this.#ctx, input) }
  async reply (input: ReplyInput, options?: CallOptions<AddEvent>): Promise<ReplyResult> { return await replyTask(this.#ctx, input, options) }
  async fetchOutputs (input: { id: string }, options?: CallOptions): Promise<FetchOutputsResult> { return await fetchTaskOutputs(this.#ctx, input, options) }
  async prune (input: { olderThanMs: number }, _options?: CallOptions): Promise<PruneResult> { return await pruneTasks(this.#ctx, input) }
  async watch (_input: Record<string, never>, options?: CallOptions<WatchEvent>): Promise<null> { return await watchTasks(this.#ctx, options) }
  async sync (input: { timeoutMs?: number }, _options?: CallOptions): Promise<SyncResult> { return await syncOnce(this.#ctx, input) }
  async follow (_input: Record<string, never>, options?: CallOptions<FollowEvent>): Promise<null> { return await followSync(this.#ctx, options) }

  /** Stop following the document (the device itself is closed by its owner). */
  close (): void {
    this.#ctx.close()
  }
}
