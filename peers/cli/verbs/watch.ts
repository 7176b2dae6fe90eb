// `dispatch watch`: hold the home like a desktop does, stay connected to every member, print
// each task's status changes and a completion line; --notify and --exec on completion.

import type { HomeLock } from '../../home/lock.ts'
import { openOrCall } from '../../home/access.ts'
import { callControl, serveControl } from '../../home/control.ts'
import { findNotifier, runHook } from '../notify.ts'
import type { Verb, VerbContext } from '../verb.ts'

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
    const onEvent = (event: any): void => {
      if (ctx.json) ctx.printJson(event)
      if (event?.event === 'status') {
        if (!ctx.json) ctx.print(`${event.id}  ${event.status}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}  ${firstLine(event.text, 60)}`)
      } else if (event?.event === 'finished') {
        const t = event.task
        const body = String(t.status === 'done' ? t.result ?? 'done' : t.error ?? t.status).split('\n').slice(0, 3).join('\n')
        if (!ctx.json) ctx.print(`${t.status === 'done' ? 'done' : t.status}: ${firstLine(t.text, 60)} (${t.id})\n${body.split('\n').map(l => `  ${l}`).join('\n')}`)
        notifier?.notify(`dispatch: ${t.status}`, `${firstLine(t.text, 80)}\n${body}`)
        if (exec !== undefined) {
          const json = JSON.stringify(t)
          hooks = hooks.then(async () => await runHook(exec, json, ctx.env, line => ctx.note(line)))
        }
      } else if (!ctx.json && event?.event !== undefined) {
        ctx.note(`${event.event} ${event.name ?? ''} ${event.reason ?? ''}`.trim())
      }
    }
    const access = await openOrCall(ctx.home)
    if (access.kind === 'holder') {
      // A desktop (or another watch) holds the home: follow through it.
      if (ctx.json) ctx.printJson({ event: 'watching', through: 'holder' })
      else ctx.note('watching tasks through the process holding this home (Ctrl-C to stop)')
      await callControl(ctx.home, 'watch', {}, onEvent, ctx.signal)
    } else {
      await hold(ctx, access.lock, onEvent)
    }
    await hooks
  }
}

async function hold (ctx: VerbContext, lock: HomeLock, onEvent: (event: any) => void): Promise<void> {
  const { openDevice } = await import('../../device/device.ts')
  const { deviceHandlers } = await import('../../device/handlers.ts')
  const device = await openDevice({ home: ctx.home, lock, listen: [], connect: false, reconnect: WATCH_RECONNECT })
  let server: Awaited<ReturnType<typeof serveControl>> | null = null
  const name = (peer: string): string => device.space.members.get(peer)?.name ?? peer.slice(-8)
  const onSynced = (peer: string): void => onEvent({ event: 'synced', peerId: peer, name: name(peer) })
  const onGone = (peer: string): void => onEvent({ event: 'disconnected', peerId: peer, name: name(peer) })
  try {
    const handlers = deviceHandlers(device)
    server = await serveControl(ctx.home, handlers)
    device.space.on('synced', onSynced)
    device.space.on('peer-disconnected', onGone)
    const peers = await device.knownPeers()
    if (peers.length === 0) ctx.note('dispatch: no paired device to sync with yet (pair first: dispatch join); watching local changes only')
    // Keeps dialling each member with backoff until it answers, and again whenever it drops.
    for (const p of peers) device.node.connectInBackground(p.addrs)
    if (ctx.json) ctx.printJson({ event: 'watching', peerId: device.peerId, name: device.name })
    else ctx.note(`watching tasks on "${device.name}" (Ctrl-C to stop)`)
    await handlers.watch({}, onEvent, ctx.signal)
  } finally {
    device.space.off('synced', onSynced)
    device.space.off('peer-disconnected', onGone)
    await server?.close()
    await device.close()
  }
}

function firstLine (text: unknown, max: number): string {
  const line = String(text ?? '').split('\n')[0]
  return line.length > max ? line.slice(0, max - 1) + '…' : line
}
