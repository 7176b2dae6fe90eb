// The WebRTC-direct certificate kept in a file: made once (mode 0600), the same after a reload
// and after a node restart (same certhash in the listen address, and a real WebRTC-direct dial
// works with it), replaced when close to expiry, and a foreign file is a clear error.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import { loadOrCreateWebRTCCertificate, WebRTCCertificateFileError, WEBRTC_CERTIFICATE_LIFESPAN_MS } from './webrtc-certificate.ts'
import { createLibp2pNode, webRTCDirectListenAddr } from './libp2p.ts'
import type { DispatchLibp2p } from './libp2p.ts'

let dir: string
const nodes: DispatchLibp2p[] = []

test.before(async () => { dir = await mkdtemp(join(tmpdir(), 'dispatch-webrtc-cert-')) })
test.after(async () => {
  await Promise.all(nodes.map(async n => { await n.stop() }))
  await rm(dir, { recursive: true, force: true })
})

const certhashOf = (node: DispatchLibp2p): string | undefined => node.getMultiaddrs().map(a => /\/certhash\/([^/]+)/.exec(a.toString())?.[1]).find(h => h !== undefined)

test('made once, owner-only, the same when loaded again', async () => {
  const path = join(dir, 'a.json')
  const first = await loadOrCreateWebRTCCertificate(path)
  assert.match(first.certhash, /^u/, 'multibase base64url')
  assert.match(first.privateKey, /^-----BEGIN PRIVATE KEY-----/)
  assert.match(first.pem, /^-----BEGIN CERTIFICATE-----/)
  assert.is((await stat(path)).mode & 0o777, 0o600)
  const again = await loadOrCreateWebRTCCertificate(path)
  assert.equal(again, first)
})

test('replaced when it is close to expiry', async () => {
  const path = join(dir, 'b.json')
  const first = await loadOrCreateWebRTCCertificate(path)
  const later = await loadOrCreateWebRTCCertificate(path, Date.now() + WEBRTC_CERTIFICATE_LIFESPAN_MS)
  assert.is.not(later.certhash, first.certhash)
  assert.is((await loadOrCreateWebRTCCertificate(path)).certhash, later.certhash, 'the new one is kept')
})

test('a file that is not a certificate is a named error, and is left alone', async () => {
  const path = join(dir, 'c.json')
  await writeFile(path, '{"hello":1}\n')
  try {
    await loadOrCreateWebRTCCertificate(path)
    assert.unreachable('should refuse')
  } catch (err) {
    assert.instance(err, WebRTCCertificateFileError)
    assert.match((err as Error).message, /c\.json is not a WebRTC-direct certificate/)
  }
})

test('a restarted node listens with the same certhash, and a WebRTC-direct dial reaches it', async () => {
  const certificate = await loadOrCreateWebRTCCertificate(join(dir, 'node.json'))
  const listen = [webRTCDirectListenAddr('127.0.0.1')]
  const first = await createLibp2pNode({ listen, webrtcCertificate: certificate })
  nodes.push(first)
  assert.is(certhashOf(first), certificate.certhash)
  await first.stop()
  const second = await createLibp2pNode({ listen, webrtcCertificate: await loadOrCreateWebRTCCertificate(join(dir, 'node.json')) })
  nodes.push(second)
  assert.is(certhashOf(second), certificate.certhash, 'same certhash after a restart (on a new port)')
  const dialler = await createLibp2pNode({ listen: [webRTCDirectListenAddr('127.0.0.1')] })
  nodes.push(dialler)
  const addr = second.getMultiaddrs().find(a => a.toString().includes('/webrtc-direct'))!
  const connection = await dialler.dial(multiaddr(addr.toString()))
  assert.match(connection.remoteAddr.toString(), /\/webrtc-direct\//)
  assert.is(connection.remotePeer.toString(), second.peerId.toString())
})

test.run()
