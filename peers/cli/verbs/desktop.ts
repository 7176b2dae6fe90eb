// `dispatch desktop`: run this home's device as a desktop: hold the home, listen, keep
// members in sync, run the tasks addressed to it, answer the other verbs, until interrupted.
// With --web it also serves the phone web app and listens where a browser page can dial it.
// The agent claims and runs tasks on the application's board (peers/device/desktop-agent.ts).

import { lockHome } from '../../home/lock.ts'
import { serveControl } from '../../home/control.ts'
import { API_INPUTS } from '../../app/api.ts'
import type { ExecutorMode } from '../../agent/executor.ts'
import { UsageError } from '../verb.ts'
import { describeStorageEvent, parseDuration } from '../format.ts'
import type { Verb, VerbContext } from '../verb.ts'

function grantFlags (ctx: VerbContext): { readWrite?: string[], readOnly?: string[], ask?: string[], terminal?: boolean, network?: boolean } {
  const v = ctx.values
  return {
    ...(v.allow !== undefined ? { readWrite: v.allow as string[] } : {}),
    ...(v['allow-read'] !== undefined ? { readOnly: v['allow-read'] as string[] } : {}),
    ...(v.ask !== undefined ? { ask: v.ask as string[] } : {}),
    ...(v.terminal === true ? { terminal: true } : {}),
    ...(v.network === true ? { network: true } : {})
  }
}

export const desktop: Verb = {
  name: 'desktop',
  usage: '[--name N] [--web [--web-port P]] [--listen MULTIADDR]... [--allow DIR]... [--allow-read DIR]... [--ask DIR]... [--terminal] [--network] [--executor auto|claude|shell] [--concurrency N] [--approval-timeout DURATION] [--relay MULTIADDR]...',
  summary: 'run this device as a desktop: stay online, sync, run the tasks addressed to it',
  options: {
    name: { type: 'string' },
    listen: { type: 'string', multiple: true },
    web: { type: 'boolean' },
    'web-port': { type: 'string' },
    relay: { type: 'string', multiple: true },
    allow: { type: 'string', multiple: true },
    'allow-read': { type: 'string', multiple: true },
    ask: { type: 'string', multiple: true },
    terminal: { type: 'boolean' },
    network: { type: 'boolean' },
    executor: { type: 'string' },
    concurrency: { type: 'string' },
    'approval-timeout': { type: 'string' }
  },
  async run (ctx) {
    const executor = (ctx.values.executor ?? 'auto') as ExecutorMode
    if (!['auto', 'claude', 'shell'].includes(executor)) throw new UsageError('--executor takes auto, claude or shell')
    const concurrency = ctx.values.concurrency === undefined ? undefined : Number(ctx.values.concurrency)
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) throw new UsageError('--concurrency takes a whole number of at least 1')
    // How long a request to the phone waits before it counts as denied; 0: never ask, refuse at once.
    const approvalTimeoutMs = ctx.values['approval-timeout'] === undefined ? undefined : parseDuration(String(ctx.values['approval-timeout']))
    if (approvalTimeoutMs !== undefined && !(approvalTimeoutMs >= 0)) throw new UsageError('--approval-timeout takes a duration such as 30m, 24h or 7d (0: never ask, refuse)')
    const web = ctx.values.web === true
    const webPort = ctx.values['web-port'] === undefined ? undefined : Number(ctx.values['web-port'])
    if (webPort !== undefined && (!web || !Number.isInteger(webPort) || webPort < 0 || webPort > 65535)) throw new UsageError('--web-port takes a port number (0 for any free one), with --web')
    // The engine loads only for the verbs that run it (start-up of the others stays quick).
    const { openApp } = await import('../../device/reach.ts')
    const { startDesktopAgent } = await import('../../device/desktop-agent.ts')
    const webApp = web ? await import('../../web/web-server.ts') : null
    // Built (if missing or stale) while the device opens; awaited (and its failure thrown) below.
    const built = webApp?.ensureWebBuilt().then(state => ({ state }), (error: Error) => ({ error }))
    const lock = await lockHome(ctx.home)
    let listen = ctx.values.listen as string[] | undefined
    if (webApp !== null) listen = webApp.webListenAddrs(listen)
    const { device, app, close } = await openApp({
      home: ctx.home,
      lock,
      role: 'desktop',
      name: ctx.values.name as string | undefined,
      listen,
      relays: ctx.values.relay as string[] | undefined,
      report: line => ctx.note(`dispatch: ${line}`)
    })
    let server: Awaited<ReturnType<typeof serveControl>> | null = null
    let stopAgent: (() => Promise<void>) | null = null
    let webServer: { urls: string[], close: () => Promise<void> } | null = null
    try {
      if (webApp !== null && listen !== undefined && built !== undefined) {
        const outcome = await built
        if ('error' in outcome) throw outcome.error
        if (outcome.state !== 'current') ctx.note(`dispatch: web app ${outcome.state} into ${webApp.WEB_DIST_DIR}`)
        // The page it serves asks here where this desktop listens now (its signed record in the space).
        webServer = await webApp.serveWebApp(listen, webPort ?? webApp.DEFAULT_WEB_PORT, () => device.signedAddrs())
        device.setWebUrls(webServer.urls)
      }
      server = await serveControl(ctx.home, app, API_INPUTS)
      const ready = { event: 'ready', peerId: device.peerId, name: device.name, addrs: device.node.addrs(), ...(webServer !== null ? { web: webServer.urls } : {}) }
      if (ctx.json) ctx.printJson(ready)
      else {
        ctx.print(`desktop "${device.name}" ready (${device.peerId})\n${ready.addrs.map(a => `  ${a}`).join('\n')}`)
        if (webServer !== null) ctx.print(`phone web app: ${webServer.urls.join('  ')}\n  pair a phone with: dispatch pair --web`)
      }
      // After the ready line (the first line of --json), so task events never precede it.
      const agent = await startDesktopAgent(device, app.board, app.scheduleBoard, {
        flags: grantFlags(ctx),
        executor,
        concurrency,
        ...(approvalTimeoutMs !== undefined ? { approvalTimeoutMs } : {}),
        env: ctx.env,
        log: line => ctx.note(`dispatch: ${line}`),
        onTask: event => {
          if (ctx.json) ctx.printJson(event)
          else ctx.note(event.event === 'task-start' ? `running ${event.id}` : `finished ${event.id}: ${event.status}`)
        },
        onSchedule: (s, entry) => {
          const line = { event: 'schedule', id: s.id, kind: entry.kind, slot: entry.slot, ...(entry.taskId !== undefined ? { taskId: entry.taskId } : {}), ...(entry.missed !== undefined ? { missed: entry.missed } : {}), text: entry.text }
          if (ctx.json) ctx.printJson(line)
          else ctx.note(`schedule ${s.id} (${s.text.slice(0, 40)}): ${entry.kind}${entry.taskId !== undefined ? ` ${entry.taskId}` : ''}: ${entry.text}`)
        }
      })
      stopAgent = agent.stop
      for (const line of agent.notices) {
        if (ctx.json) ctx.printJson({ event: 'notice', message: line })
        else ctx.note(line)
      }
      // The line itself is already on stderr (report); --json also gets it as an event.
      if (ctx.json) app.onRefusal(r => { ctx.printJson({ event: 'refused', peer: r.peer, name: r.name, reason: r.reason }) })
      // A full disk: said (and recovery said) here and to every `dispatch watch`; the desktop keeps running.
      const onStorage = (event: { event: 'storage-error', message: string } | { event: 'storage-recovered' }): void => {
        if (ctx.json) ctx.printJson(event)
        else ctx.note(describeStorageEvent(event))
      }
      if (device.space.storageError !== null) onStorage({ event: 'storage-error', message: device.space.storageError.message })
      device.space.on('storage-error', err => onStorage({ event: 'storage-error', message: err.message }))
      device.space.on('storage-recovered', () => onStorage({ event: 'storage-recovered' }))
      if (!ctx.json) {
        device.space.on('peer-connected', peer => ctx.note(`connected: ${device.space.members.get(peer)?.name ?? peer}`))
        device.space.on('peer-disconnected', peer => ctx.note(`disconnected: ${device.space.members.get(peer)?.name ?? peer}`))
      }
      await new Promise<void>(resolve => {
        if (ctx.signal.aborted) resolve()
        ctx.signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      await stopAgent?.()
      await server?.close()
      await webServer?.close()
      await close()
    }
  }
}
