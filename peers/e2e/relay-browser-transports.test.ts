// `dispatch relay` where a browser on an HTTPS page can dial it (issue 12, item 3): it prints its
// WebRTC-direct address with the certhash; with `--wss-cert/--wss-key` it serves WSS with that
// certificate and announces the certificate's DNS names; bad certificate input is one line, a
// non-zero exit, and nothing written. (A page using it: peers/web/web-relay-netns.test.ts.)

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'node:tls'
import { X509Certificate } from 'node:crypto'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeTestCertificate } from '../../core/e2e/test-certificate.ts'
import { dispatch, freePort, DispatchProcess } from './cli-process.ts'

const root = await mkdtemp(join(tmpdir(), 'drelay-browser-'))
const running: DispatchProcess[] = []
const track = (p: DispatchProcess): DispatchProcess => { running.push(p); return p }

test.after(async () => {
  for (const p of running) await p.stop()
  await rm(root, { recursive: true, force: true })
})

/** The certificate a TLS server on 127.0.0.1:`port` presents for `servername`, checked against `ca`. */
async function presented (port: number, servername: string, ca: string): Promise<{ authorized: boolean, fingerprint: string }> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '' })
      socket.end()
    })
    socket.once('error', reject)
  })
}

test('prints its WebRTC-direct address with the certhash, apart from the TCP one; the certhash survives a restart', async () => {
  const relay = track(new DispatchProcess(join(root, 'plain'), ['relay', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct']))
  const ready = await relay.waitFor(l => l.event === 'ready', 60_000)
  const webrtc = (ready.addrs as string[]).filter(a => a.includes('/webrtc-direct/certhash/'))
  assert.is(webrtc.length, 1, JSON.stringify(ready.addrs))
  assert.ok(webrtc[0].endsWith(`/p2p/${String(ready.peerId)}`))
  assert.equal(ready.browser, webrtc, 'the addresses for browsers are the WebRTC-direct one only (no WSS without a certificate)')
  // Restarted from the same home: the same certhash, so the addresses browsers were given still verify.
  await relay.stop()
  const again = track(new DispatchProcess(join(root, 'plain'), ['relay', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', '/ip4/127.0.0.1/udp/0/webrtc-direct']))
  const second = await again.waitFor(l => l.event === 'ready', 60_000)
  const certhash = (a: string): string | undefined => /\/certhash\/([^/]+)/.exec(a)?.[1]
  const next = (second.addrs as string[]).filter(a => a.includes('/webrtc-direct/certhash/'))
  assert.is(next.length, 1, JSON.stringify(second.addrs))
  assert.is(certhash(next[0]), certhash(webrtc[0]))
})

test('with --wss-cert/--wss-key: serves WSS with that certificate and announces its DNS name', async () => {
  const cert = await makeTestCertificate(['relay.example'])
  await writeFile(join(root, 'relay.pem'), cert.cert)
  await writeFile(join(root, 'relay.key'), cert.key, { mode: 0o600 })
  const port = await freePort()
  const relay = track(new DispatchProcess(join(root, 'wss'), [
    'relay', '--json', '--listen', '/ip4/127.0.0.1/tcp/0', '--listen', `/ip4/127.0.0.1/tcp/${port}/tls/ws`,
    '--wss-cert', join(root, 'relay.pem'), '--wss-key', join(root, 'relay.key')
  ]))
  const ready = await relay.waitFor(l => l.event === 'ready', 60_000)
  const id = String(ready.peerId)
  assert.ok((ready.browser as string[]).includes(`/ip4/127.0.0.1/tcp/${port}/tls/ws/p2p/${id}`), JSON.stringify(ready.browser))
  assert.ok((ready.browser as string[]).includes(`/dns/relay.example/tcp/${port}/tls/ws/p2p/${id}`), JSON.stringify(ready.browser))
  const tls = await presented(port, 'relay.example', cert.cert)
  assert.ok(tls.authorized, 'the WSS listener presents a certificate that verifies for relay.example')
  assert.is(tls.fingerprint, new X509Certificate(cert.cert).fingerprint256)
})

test('bad certificate input: one line, exit 1 or 2, nothing written', async () => {
  const a = await makeTestCertificate(['a.example'])
  const b = await makeTestCertificate(['b.example'])
  await writeFile(join(root, 'a.pem'), a.cert)
  await writeFile(join(root, 'b.key'), b.key)
  await writeFile(join(root, 'junk.pem'), 'not a certificate\n')
  const cases: Array<{ args: string[], code: number, says: RegExp }> = [
    { args: ['--wss-cert', join(root, 'a.pem'), '--wss-key', join(root, 'b.key')], code: 1, says: /is not the private key of/ },
    { args: ['--wss-cert', join(root, 'junk.pem'), '--wss-key', join(root, 'b.key')], code: 1, says: /is not a PEM certificate/ },
    { args: ['--wss-cert', join(root, 'a.pem'), '--wss-key', join(root, 'missing.key')], code: 1, says: /cannot read the WSS key .*ENOENT/ },
    { args: ['--wss-cert', join(root, 'a.pem')], code: 2, says: /--wss-cert and --wss-key go together/ },
    { args: ['--listen', '/ip4/127.0.0.1/tcp/0/tls/ws'], code: 2, says: /a WSS listen address needs a certificate/ }
  ]
  for (const [i, c] of cases.entries()) {
    const home = join(root, `bad-${i}`)
    const r = await dispatch(home, ['relay', ...c.args])
    assert.is(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`)
    const first = r.stderr.split('\n')[0]
    assert.match(first, c.says)
    assert.not.match(r.stderr, /\n\s+at /, 'no stack trace')
    // Found before the relay writes its key into the home.
    assert.not.ok(await access(home).then(() => true, () => false), `${home} was created`)
  }
})

test.run()
