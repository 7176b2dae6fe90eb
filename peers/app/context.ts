// What every use case works with: the device, its one task board, and the archive follower.
// Finished tasks that another member prunes (a replicated delete) are archived here too, from
// the last view this device had of them.

import type { Member } from '../../core/index.ts'
import { TaskBoard } from '../tasks/task-board.ts'
import type { Task } from '../tasks/task-board.ts'
import { isFinal } from '../tasks/task-rules.ts'
import type { ArchivedTask, DeviceRuntime } from './ports.ts'

/** No device by that name or peer id prefix. */
export class UnknownDeviceError extends Error {
  name = 'UnknownDeviceError'
}

/** A name or prefix that fits several devices. */
export class AmbiguousDeviceError extends Error {
  name = 'AmbiguousDeviceError'
}

export class AppContext {
  readonly device: DeviceRuntime
  readonly board: TaskBoard
  readonly #finished = new Map<string, ArchivedTask>()

  constructor (device: DeviceRuntime) {
    this.device = device
    this.board = new TaskBoard({ doc: device.space.doc, deviceId: device.peerId, members: device.space.members, log: line => { device.report(line) } })
    for (const t of this.board.list()) if (isFinal(t.status)) this.#remember(t)
    this.board.on('tasks-change', this.#onChange)
  }

  /** This device archives `id` itself (prune): its delete is not archived a second time. */
  forgetFinished (id: string): void {
    this.#finished.delete(id)
  }

  /** Name of a member for messages: its recorded name, else the end of its peer id. */
  nameOf (peerId: string): string {
    return this.device.space.members.get(peerId)?.name ?? peerId.slice(-8)
  }

  /** A device by exact name (case-insensitive) or peer id prefix (4 characters or more), never this one. */
  findDevice (query: string): Member {
    const all = this.device.space.members.list().filter(m => m.peerId !== this.device.peerId)
    const byId = all.filter(m => query.length >= 4 && m.peerId.startsWith(query))
    const matches = byId.length > 0 ? byId : all.filter(m => m.name.toLowerCase() === query.toLowerCase())
    if (matches.length === 0) throw new UnknownDeviceError(`no paired device named or with a peer id starting with "${query}" (see dispatch devices)`)
    if (matches.length > 1) throw new AmbiguousDeviceError(`"${query}" matches ${matches.length} devices (${matches.map(m => m.peerId.slice(-8)).join(', ')}); give more of the peer id`)
    return matches[0]
  }

  close (): void {
    this.board.off('tasks-change', this.#onChange)
    this.board.destroy()
  }

  #remember (t: Task): void {
    this.#finished.set(t.id, { ...t, log: this.board.log(t.id), archivedAt: 0 })
  }

  readonly #onChange = (ids: string[]): void => {
    const gone: ArchivedTask[] = []
    for (const id of ids) {
      const t = this.board.get(id)
      if (t !== undefined) { if (isFinal(t.status)) this.#remember(t); continue }
      const last = this.#finished.get(id)
      if (last !== undefined) { this.#finished.delete(id); gone.push({ ...last, archivedAt: this.device.now() }) }
    }
    if (gone.length === 0) return
    // Nobody waits on this write: a failure is reported, and the tasks stay readable nowhere but in
    // the other devices' archives; nothing else of this device depends on it.
    this.device.archive.append(gone).catch((err: Error) => {
      this.device.report(`could not archive ${gone.length} task(s) another device pruned: ${err.message}`)
    })
  }
}
