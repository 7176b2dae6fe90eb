// `dispatch relay`: run a libp2p circuit relay v2 so that desktops and phones on different
// networks reach each other. It forwards Noise-encrypted bytes; it cannot read or join a space.
// A browser on an HTTPS page reaches it over WebRTC-direct (always) or WSS (with --wss-cert).

import { join } from 'node:path'
import { mkdir } from 'node:fs/promises'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'

export const relay: Verb = {
  name: 'relay',
  usage: '[--listen MULTIADDR]... [--wss-cert FILE --wss-key FILE]',
  summary: 'run a circuit relay so devices on different networks (phone browsers too) can reach each other',
  options: {
    listen: { type: 'string', multiple: true },
    'wss-cert': { type: 'string' },
    'wss-key': { type: 'string' }
  },
  async run (ctx) {
    const certFile = ctx.values['wss-cert'] as string | undefined
    const keyFile = ctx.values['wss-key'] as string | undefined
    if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--wss-cert and --wss-key go together (PEM certificate and its private key)')
    const { createRelayNode, relayListenAddrs } = await import('../../../core/net/relay.ts')
    const { loadWssCertificate } = await import('../../../core/net/wss-certificate.ts')
    const { loadOrCreateIdentity, loadOrCreateWebRTCCertificate } = await import('../../../core/index.ts')
    const { transportOf } = await import('../../../core/net/multiaddrs.ts')
    // Checked before anything is written: bad input leaves the home as it was.
    let listen: string[]
    try {
      listen = relayListenAddrs(ctx.values.listen as string[] | undefined, certFile !== undefined)
    } catch (err) {
      if ((err as Error).name === 'RelayWssConfigError') throw new UsageError((err as Error).message)
      throw err
    }
    const wss = certFile !== undefined && keyFile !== undefined ? await loadWssCertificate(certFile, keyFile) : undefined
    // The relay keeps its own key, so its address (which desktops keep in their config) survives restarts.
    await mkdir(ctx.home, { recursive: true, mode: 0o700 })
    const privateKey = await loadOrCreateIdentity(join(ctx.home, 'relay.key'))
    // And its WebRTC-direct certificate, so the certhash in the addresses browsers were given stays valid.
    const webrtcCertificate = listen.some(a => a.includes('/webrtc-direct')) ? await loadOrCreateWebRTCCertificate(join(ctx.home, 'relay-webrtc-direct.json')) : undefined
    const node = await createRelayNode({ privateKey, listen, wss, webrtcCertificate })
    try {
      const addrs = node.addrs()
      // What a page on an HTTPS origin can dial (WebRTC-direct needs no CA certificate; WSS needs the
      // operator's). Desktops relayed here advertise `<each of these>/p2p-circuit/p2p/<desktop>` too.
      const browser = addrs.filter(a => ['udp/webrtc-direct', 'tcp/tls/ws', 'tcp/wss'].includes(transportOf(a)))
      const ready = { event: 'ready', peerId: node.peerId, addrs, browser }
      if (ctx.json) ctx.printJson(ready)
      else {
        ctx.print(`relay ready (${node.peerId}); point desktops at it with --relay:\n${addrs.map(a => `  ${a}`).join('\n')}`)
        if (browser.length > 0) ctx.print(`phone browsers on an HTTPS page reach it (and desktops through it) at:\n${browser.map(a => `  ${a}`).join('\n')}`)
      }
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
