// Test fixture: a push service on 127.0.0.1 that checks what a real one (FCM, Mozilla, Apple)
// checks: the VAPID token (RFC 8292: ES256 signature by the key `k`, aud = the endpoint's origin,
// exp within 24 h) and an aes128gcm body (RFC 8291), which it decrypts with the subscriber's keys
// (http_ece). It hands out a subscription for a page it plays the browser of.

import * as assert from 'uvu/assert'
import { createServer } from 'node:http'
import type { Server } from 'node:http'
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto'
import type { ECDH } from 'node:crypto'
// @ts-expect-error http_ece ships no types
import * as ece from 'http_ece'
import type { PushSubscriptionData } from './subscription.ts'

export interface Received { path: string, payload: string }

/** A push service on 127.0.0.1: verifies each request as FCM / Mozilla / Apple would, then decrypts it. */
export async function pushService (vapidPublicKey: string) {
  const receiver: ECDH = createECDH('prime256v1')
  receiver.generateKeys()
  const auth = randomBytes(16)
  const received: Received[] = []
  const rejected: string[] = []
  let gone = false
  const waiters: Array<() => void> = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      try {
        if (gone) { res.writeHead(410).end('subscription expired'); return }
        const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
        checkVapid(String(req.headers.authorization), vapidPublicKey, origin)
        assert.is(req.headers['content-encoding'], 'aes128gcm')
        assert.ok(Number(req.headers.ttl) > 0, 'a TTL')
        const plain = ece.decrypt(Buffer.concat(chunks), { version: 'aes128gcm', privateKey: receiver, authSecret: auth.toString('base64url') }) as Buffer
        received.push({ path: req.url ?? '', payload: plain.toString('utf8') })
        res.writeHead(201).end()
      } catch (err) {
        rejected.push((err as Error).message)
        res.writeHead(400).end((err as Error).message)
      }
      for (const w of waiters.splice(0)) w()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const subscription: PushSubscriptionData = {
    endpoint: `http://127.0.0.1:${port}/push/phone-1`,
    keys: { p256dh: receiver.getPublicKey().toString('base64url'), auth: auth.toString('base64url') }
  }
  return {
    subscription,
    received,
    rejected,
    expire: () => { gone = true },
    /** Resolves once `n` requests were answered (a generous deadline, cleared). */
    until: async (n: number) => {
      const deadline = Date.now() + 20_000
      while (received.length + rejected.length < n) {
        if (Date.now() > deadline) throw new Error(`the push service got ${received.length + rejected.length} of ${n} requests`)
        let timer: NodeJS.Timeout | undefined
        await new Promise<void>(resolve => { waiters.push(resolve); timer = setTimeout(resolve, 1000) })
        clearTimeout(timer)
      }
    },
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => { server.close(() => resolve()) }) }
  }
}

/** RFC 8292: `vapid t=<JWT>, k=<public key>`; the JWT signed ES256 by k, for this origin, not expired, at most 24 h. */
function checkVapid (authorization: string, expectedKey: string, origin: string): void {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization)
  assert.ok(m !== null, `Authorization is "vapid t=…, k=…": ${authorization}`)
  const [, jwt, k] = m!
  assert.is(k, expectedKey, 'k is the desktop\'s VAPID public key')
  const [h, p, s] = jwt!.split('.')
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as { alg: string }
  const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { aud: string, exp: number, sub: string }
  assert.is(header.alg, 'ES256')
  const point = Buffer.from(k!, 'base64url')
  assert.is(point.length, 65)
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' })
  const good = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s!, 'base64url'))
  assert.ok(good, 'the JWT signature verifies against k')
  assert.is(claims.aud, origin)
  const now = Date.now() / 1000
  assert.ok(claims.exp > now && claims.exp <= now + 24 * 3600 + 60, `exp within 24 h: ${claims.exp - now} s`)
  assert.match(claims.sub, /^(mailto:|https:)/)
}

