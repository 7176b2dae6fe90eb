// `dispatch desktop`: run this home's device as a desktop: hold the home, listen, keep
// members in sync, answer the other verbs on the control socket, until interrupted.

import { lockHome } from '../../home/lock.ts'
import { serveControl } from '../../home/control.ts'
import { openDevice } from '../../device/device.ts'
import type { Device } from '../../device/device.ts'
import { deviceHandlers } from '../../device/handlers.ts'
import type { Verb, VerbContext } from '../verb.ts'

/**
 * Hook for the desktop agent (claim + execute tasks): started once the device is up,
 * its returned function stops it. Nothing runs tasks yet.
 */
async function startAgent (_device: Device, _ctx: VerbContext): Promise<() => Promise<void>> {
  return async () => {}
}

export const desktop: Verb = {
  name: 'desktop',
  usage: '[--name N] [--listen MULTIADDR]... [--relay MULTIADDR]...',
  summary: 'run this device as a desktop: stay online, sync with paired devices',
  options: {
    name: { type: 'string' },
    listen: { type: 'string', multiple: true },
    relay: { type: 'string', multiple: true }
  },
  async run (ctx) {
    const lock = await lockHome(ctx.home)
    const device = await openDevice({
      home: ctx.home,
      lock,
      role: 'desktop',
      name: ctx.values.name as string | undefined,
      listen: ctx.values.listen as string[] | undefined,
      relays: ctx.values.relay as string[] | undefined
    })
    let server: Awaited<ReturnType<typeof serveControl>> | null = null
    let stopAgent: (() => Promise<void>) | null = null
    try {
      server = await serveControl(ctx.home, deviceHandlers(device))
      stopAgent = await startAgent(device, ctx)
      const ready = { event: 'ready', peerId: device.peerId, name: device.name, addrs: device.node.addrs() }
      if (ctx.json) ctx.printJson(ready)
      else ctx.print(`desktop "${device.name}" ready (${device.peerId})\n${ready.addrs.map(a => `  ${a}`).join('\n')}`)
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
      await device.close()
    }
  }
}
