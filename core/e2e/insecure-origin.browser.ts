// Page side of insecure-origin.test.ts: on a plain-HTTP, non-localhost origin (no crypto.subtle),
// the browser entry makes and keeps an Ed25519 device key, signs and verifies with it, pairs with
// a Node device over the transport asked for, and syncs a text with it.

import { createProvider, loadOrCreateBrowserIdentity, MemoryStore } from '../browser.ts'

async function run (invite: string, transport: string): Promise<Record<string, unknown>> {
  const key = await loadOrCreateBrowserIdentity(`identity-${transport}`)
  const again = await loadOrCreateBrowserIdentity(`identity-${transport}`)
  const message = new TextEncoder().encode('signed without Web Crypto')
  const signature = await key.sign(message)
  const provider = await createProvider('doc', { storage: new MemoryStore(), node: { privateKey: key }, name: `page-${transport}`, rememberPeers: false })
  const accepted = await provider.pair(invite)
  const text = provider.doc.getText('t')
  await new Promise<void>(resolve => { const check = (): void => { if (text.toString().includes('from node')) resolve() }; text.observe(check); check() })
  text.insert(text.length, ` from ${transport} page`)
  const via = provider.node.libp2p.getConnections().map(c => c.remoteAddr.toString())
  return {
    secure: isSecureContext,
    subtle: typeof globalThis.crypto.subtle,
    sameKey: key.equals(again),
    verified: await key.publicKey.verify(message, signature),
    forged: await key.publicKey.verify(new TextEncoder().encode('something else'), signature),
    code: accepted.code,
    via
  }
}

Object.assign(globalThis, { run })
