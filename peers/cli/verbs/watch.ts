// `dispatch watch`: hold the home like a desktop does, stay connected to every member, print
// each task's status changes and a completion line; --notify and --exec on completion.

import { reachApp } from '../../device/reach.ts'
import type { FollowEvent, WatchEvent } from '../../app/api.ts'
import { describeStorageEvent, firstLine } from '../format.ts'
import { findNotifier, runHook } from '../notify.ts'
import type { Verb } from '../verb.ts'

/** Reconnection bounds while watching: a phone wants a desktop that comes back soon. */
const WATCH_RECONNECT = { minMs: 500, maxMs: 5_000 }

export const watch: Verb = {
  name: 'watch',
  usage: '[--notify] [--exec CMD]',
  summary: 'follow tasks live: status changes, completions (--notify: OS notice, --exec: hook)',
  options: {
    notify: { type: 'boolean' },
    exec: { type: 'string' }
  },
  async run (ctx) {
    const notifier = ctx.values.notify === true ? await findNotifier(ctx.env) : null
    if (ctx.values.notify === true && notifier === null) ctx.note('dispatch: no notifier found (notify-send, terminal-notifier or osascript); completions are printed only')
    const exec = ctx.values.exec as string | undefined
    let hooks: Promise<unknown> = Promise.resolve()
    const onEvent = (event: WatchEvent | FollowEvent): void => {
      if (ctx.json) ctx.printJson(event)
      if (event.event === 'status') {
        if (!ctx.json) ctx.print(`${event.id}  ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}  ${firstLine(event.text, 60)}`)
        const p = event.pending
        if (p !== undefined) {
          // A request from the desktop: said where the person looks, with the command that answers it.
          const ask = p.kind === 'approval' ? `${p.summary} (${p.reason})` : p.question
          const how = p.kind === 'approval' ? `dispatch approve ${event.id} [--for-task] | dispatch deny ${event.id} [--note TEXT]` : `dispatch reply ${event.id} TEXT`
          if (!ctx.json) ctx.print(`  ${p.kind === 'approval' ? 'asks to run' : 'asks'}: ${ask}\n  answer: ${how}`)
          notifier?.notify(`dispatch: ${p.kind === 'approval' ? 'approval needed' : 'a question'}`, `${firstLine(event.text, 80)}\n${ask}`)
        }
      } else if (event.event === 'finished') {
        const t = event.task
        const body = (t.status === 'done' ? t.result ?? 'done' : t.error ?? t.status).split('\n').slice(0, 3).join('\n')
        if (!ctx.json) ctx.print(`${t.status === 'done' ? 'done' : t.status}${t.verified === false ? ' (UNVERIFIED: no receipt from its desktop)' : ''}: ${firstLine(t.text, 60)} (${t.id})\n${body.split('\n').map(l => `  ${l}`).join('\n')}`)
        notifier?.notify(`dispatch: ${t.status}`, `${firstLine(t.text, 80)}\n${body}`)
        if (exec !== undefined) {
          const json = JSON.stringify(t)
          hooks = hooks.then(async () => await runHook(exec, json, ctx.env, line => ctx.note(line)))
        }
      } else if (event.event === 'schedule') {
        const line = `schedule ${event.entry.kind}: ${firstLine(event.text, 60)} (${event.scheduleId}): ${event.entry.text}`
        if (!ctx.json) ctx.print(line)
        notifier?.notify(`dispatch: schedule ${event.entry.kind}`, line)
      } else if (event.event === 'storage-error' || event.event === 'storage-recovered') {
        if (!ctx.json) ctx.note(describeStorageEvent(event))
      } else if (!ctx.json) {
        ctx.note(`${event.event} ${event.name} ${'reason' in event ? event.reason ?? '' : ''}`.trim())
      }
    }
    // Held here when nothing else holds the home: a phone's watch keeps every member connected.
    const reached = await reachApp(ctx.home, { open: { listen: [], reconnect: WATCH_RECONNECT, report: line => ctx.note(`dispatch: ${line}`) }, serve: true })
    const { api } = reached
    try {
      if (reached.via === 'holder') {
        // A desktop (or another watch) holds the home: follow through it.
        if (ctx.json) ctx.printJson({ event: 'watching', through: 'holder' })
        else ctx.note('watching tasks through the process holding this home (Ctrl-C to stop)')
        await api.watch({}, { signal: ctx.signal, onEvent })
      } else {
        const me = await api.status({})
        // Sync events (synced, disconnected, refused, unreachable) alongside the task events.
        const following = api.follow({}, { signal: ctx.signal, onEvent }).catch((err: Error) => {
          if (err.name === 'NoKnownPeersError') ctx.note(`dispatch: ${err.message}; watching local changes only`)
          else ctx.note(`dispatch: ${err.message}`)
        })
        if (ctx.json) ctx.printJson({ event: 'watching', peerId: me.peerId, name: me.name })
        else ctx.note(`watching tasks on "${me.name}" (Ctrl-C to stop)`)
        await api.watch({}, { signal: ctx.signal, onEvent })
        await following
      }
    } finally {
      await reached.close()
    }
    await hooks
  }
}
