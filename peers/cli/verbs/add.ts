// `dispatch add TEXT`: queue a task for a desktop. Saved on disk before it says "queued";
// delivered when the target desktop acknowledged receipt, else it goes out at the next sync.
// The use case is `add` in peers/app/tasks.ts (the web app's Add button calls the same).

import { basename, resolve } from 'node:path'
import { readFile } from 'node:fs/promises'
import { withApp } from '../../device/reach.ts'
import { homeLayout } from '../../home/layout.ts'
import type { Attachment } from '../../app/api.ts'
import { describeTask, formatTime } from '../format.ts'
import { BadValueError, UsageError } from '../verb.ts'
import type { Verb, VerbContext } from '../verb.ts'

export class TaskFailedError extends Error {
  name = 'TaskFailedError'
}

/** The task (or schedule) did not reach this device's disk: nothing was queued. */
export class NotSavedError extends Error {
  name = 'NotSavedError'
}

/**
 * A failed save, in this process or in the holder's (whose error arrives by name), becomes
 * `not saved: <reason>`; so does a full disk met before the task was written (the home's lock).
 */
function notSaved (err: unknown): unknown {
  const e = err as NodeJS.ErrnoException
  const full = e?.code === 'ENOSPC' || e?.code === 'EDQUOT'
  return e?.name === 'StorageFailedError' || full ? new NotSavedError(`not saved: ${e.message}`) : err
}

/** Empty values that would only fail later, on the desktop: refused before anything is queued. */
function refuseEmpty (text: string, to: string | undefined, dir: string | undefined): void {
  if (to !== undefined && to.trim() === '') throw new BadValueError('--to is empty; give a desktop\'s name or peer id (dispatch devices lists them), or leave --to out for the default')
  if (dir !== undefined && dir.trim() === '') throw new BadValueError('--in is empty; give the folder on the desktop to run in, or leave --in out')
  if (text.trim() === '') throw new BadValueError('the task text is empty; say what to do, or `$ COMMAND` for a shell command')
  if (/^\$\s*$/.test(text.trim())) throw new BadValueError('the command after `$ ` is empty; write it, e.g. dispatch add \'$ make test\'')
}

export const add: Verb = {
  name: 'add',
  usage: 'TEXT [--to DEVICE] [--in DIR] [--attach FILE]... [--wait | --at TIME | --every DURATION | --cron EXPR [--tz ZONE]]',
  summary: 'add a task for a desktop (works offline; `$ cmd` runs a shell command); --at/--every/--cron schedule it',
  options: {
    to: { type: 'string' },
    in: { type: 'string' },
    wait: { type: 'boolean' },
    at: { type: 'string' },
    every: { type: 'string' },
    cron: { type: 'string' },
    tz: { type: 'string' },
    attach: { type: 'string', multiple: true }
  },
  positionals: { min: 1, max: Infinity },
  async run (ctx) {
    const text = ctx.positionals.join(' ')
    const dir = ctx.values.in as string | undefined
    const to = ctx.values.to as string | undefined
    const wait = ctx.values.wait === true
    refuseEmpty(text, to, dir)
    const when = { at: ctx.values.at as string | undefined, every: ctx.values.every as string | undefined, cron: ctx.values.cron as string | undefined, tz: ctx.values.tz as string | undefined }
    if (when.at !== undefined || when.every !== undefined || when.cron !== undefined || when.tz !== undefined) {
      if (wait) throw new UsageError('--wait is for one task now; a schedule\'s runs are listed by dispatch schedules')
      if (ctx.values.attach !== undefined) throw new UsageError('--attach is for one task now; a schedule\'s runs carry no attachments')
      await addScheduled(ctx, text, { ...(to !== undefined ? { to } : {}), ...(dir !== undefined ? { scope: resolve(dir) } : {}) }, when)
      return
    }
    const attachments = await storeAttachments(ctx.home, (ctx.values.attach as string[] | undefined) ?? [])
    const result = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.add({
      text,
      ...(to !== undefined ? { to } : {}),
      ...(dir !== undefined ? { scope: resolve(dir) } : {}),
      wait,
      ...(attachments.length > 0 ? { attachments } : {})
    }, {
      signal: ctx.signal,
      onEvent: event => {
        if (ctx.json) return
        if (event.event === 'queued') ctx.print(`queued ${event.id} for "${event.targetName}" (saved on this device)`)
        else if (event.event === 'status' && wait) ctx.note(`${event.id} ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`)
      }
    })).catch((err: unknown) => { throw notSaved(err) })
    if (ctx.json) {
      ctx.printJson(result)
    } else if (result.delivered) {
      ctx.print(`delivered to "${result.targetName}"`)
      if (result.attachmentsDelivered === false) ctx.print(`the attachments are not there yet: "${result.targetName}" fetches them from this device when it can reach it (keep dispatch watch running)`)
    } else {
      ctx.print(`not delivered yet: "${result.targetName}" is not reachable now; the task stays queued on this device and goes out at the next sync (dispatch sync, or keep dispatch watch running)`)
    }
    if (wait && result.task !== undefined) {
      if (!ctx.json) ctx.print(describeTask(result.task).join('\n'))
      if (result.task.status !== 'done') throw new TaskFailedError(`task ${result.id} ${result.task.status}${result.task.error !== undefined ? `: ${result.task.error}` : ''}`)
    }
  }
}

/** `add --at/--every/--cron`: the schedule is on disk before this prints; the desktop runs it. */
async function addScheduled (ctx: VerbContext, text: string, where: { to?: string, scope?: string }, when: { at?: string | undefined, every?: string | undefined, cron?: string | undefined, tz?: string | undefined }): Promise<void> {
  const input = Object.fromEntries(Object.entries({ text, ...where, ...when }).filter(([, v]) => v !== undefined)) as { text: string }
  const r = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.addSchedule(input, { signal: ctx.signal }))
    .catch((err: unknown) => { throw notSaved(err) })
  if (ctx.json) { ctx.printJson(r); return }
  const s = r.schedule
  ctx.print(`scheduled ${s.id} for "${s.targetName ?? s.target}": ${s.when}; next run ${formatTime(s.nextRunAt)} (saved on this device)`)
  ctx.print(r.reached ? `sent to "${s.targetName ?? s.target}"` : `not sent yet: "${s.targetName ?? s.target}" is not reachable now; the schedule goes out at the next sync and runs there, also while this device is off`)
}

/**
 * Puts each file into the home's blob store (content-addressed, so a holder process serving the
 * same store sees it at once) and returns what the task carries about it.
 */
async function storeAttachments (home: string, files: string[]): Promise<Attachment[]> {
  if (files.length === 0) return []
  // Loaded only when files are attached: every `dispatch` start would otherwise load the engine.
  const [{ FileBlobStore }, { default: mime }] = await Promise.all([import('../../../core/blob/file-blob-store.ts'), import('mime-types')])
  const store = await FileBlobStore.open(homeLayout(home).blobs)
  try {
    const out: Attachment[] = []
    for (const file of files) {
      let bytes: Uint8Array
      try { bytes = await readFile(resolve(file)) } catch (err) { throw new UsageError(`--attach ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`) }
      if (bytes.length > store.maxBytes) throw new UsageError(`--attach ${file}: ${bytes.length} bytes, more than the limit of ${store.maxBytes}`)
      const sha256 = await store.put(bytes)
      out.push({ name: basename(file), size: bytes.length, type: mime.lookup(file) || 'application/octet-stream', sha256 })
    }
    return out
  } finally { await store.close() }
}
