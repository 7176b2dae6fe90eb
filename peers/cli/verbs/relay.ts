// `dispatch relay`: run a libp2p circuit relay v2 so that desktops and phones on different
// networks reach each other. It forwards Noise-encrypted bytes; it cannot read or join a space.

import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import type { Verb } from '../verb.ts'

export const relay: Verb = {
  name: 'relay',
  usage: '[--listen MULTIADDR]...',
  summary: 'run a circuit relay so devices on different networks can reach each other',
  options: {
    listen: { type: 'string', multiple: true }
  },
  async run (ctx) {
    const { createRelayNode, DEFAULT_RELAY_LISTEN } = await import('../../../core/net/relay.ts')
    const { loadOrCreateIdentity } = await import('../../../core/index.ts')
    // The relay keeps its own key, so its address (which desktops keep in their config) survives restarts.
    await mkdir(ctx.home, { recursive: true, mode: 0o700 })
    const privateKey = await loadOrCreateIdentity(join(ctx.home, 'relay.key'))
    const node = await createRelayNode({ privateKey, listen: (ctx.values.listen as string[] | undefined) ?? DEFAULT_RELAY_LISTEN })
    try {
      const ready = { event: 'ready', peerId: node.peerId, addrs: node.addrs() }
      if (ctx.json) ctx.printJson(ready)
      else ctx.print(`relay ready (${node.peerId}); point desktops at it with --relay:\n${ready.addrs.map(a => `  ${a}`).join('\n')}`)
      node.libp2p.services.relay.addEventListener('relay:reservation', (event) => {
        if (ctx.json) ctx.printJson({ event: 'reservation', addr: event.detail.addr.toString(), expiresAt: event.detail.expiry.getTime() })
      })
      await new Promise<void>(resolve => {
        if (ctx.signal.aborted) resolve()
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      await node.stop()
    }
  }
}
