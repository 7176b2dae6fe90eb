// Invites: encoding round trip and size, refusal of each kind of unusable invite, proof binding.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as encoding from 'lib0/encoding'
import {
  mintInvite, encodeInvite, decodeInvite, assertInviteUsable, inviteProof, verifyInviteProof,
  verificationCode, InvalidInviteError, InviteMissingSecretError, InviteExpiredError, INVITE_PREFIX
} from './invite.ts'
import type { Invite } from './invite.ts'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

const desktop = await newPeerId()
const relay = await newPeerId()
const phone = await newPeerId()
const thief = await newPeerId()
const now = 1_750_000_000_000

const lan = `/ip4/192.168.1.20/tcp/4317/p2p/${desktop}`
const lanWs = `/ip4/192.168.1.20/tcp/4318/ws/p2p/${desktop}`
const viaRelay = `/ip4/203.0.113.7/tcp/4001/p2p/${relay}/p2p-circuit/p2p/${desktop}`

function throwsNamed (fn: () => unknown, name: string, message?: RegExp): void {
  try {
    fn()
  } catch (err) {
    assert.is((err as Error).name, name, (err as Error).message)
    if (message !== undefined) assert.match((err as Error).message, message)
    return
  }
  assert.unreachable(`expected ${name}`)
}

function sameInvite (a: Invite, b: Invite): void {
  assert.is(a.peerId, b.peerId)
  assert.equal(a.addrs.map(String), b.addrs.map(String))
  assert.equal([...a.secret], [...b.secret])
  assert.is(a.expiresAt, b.expiresAt)
  assert.is(a.name, b.name)
}

test('mint: secret of 128 random bits, default ttl 5 minutes, peer id from the addrs', () => {
  const { invite, secret } = mintInvite({ addrs: [lan], name: 'studio', now })
  assert.is(secret.length, 16)
  assert.is(invite.secret, secret)
  assert.is(invite.peerId, desktop)
  assert.is(invite.expiresAt, now + 5 * 60 * 1000)
  const other = mintInvite({ addrs: [lan], name: 'studio', now })
  assert.not.equal([...other.secret], [...secret])
})

test('mint: relay addrs go after LAN addrs', () => {
  const { invite } = mintInvite({ addrs: [viaRelay, lan, multiaddr(lanWs)], name: 'studio', now })
  assert.equal(invite.addrs.map(String), [lan, lanWs, viaRelay])
})

test('mint: refuses addrs without /p2p or naming different peers', () => {
  throwsNamed(() => mintInvite({ addrs: ['/ip4/1.2.3.4/tcp/1'], name: 'x', now }), 'InvalidInviteError', /p2p/)
  throwsNamed(() => mintInvite({ addrs: [lan, `/ip4/1.2.3.4/tcp/1/p2p/${relay}`], name: 'x', now }), 'InvalidInviteError', /different peers/)
  throwsNamed(() => mintInvite({ addrs: [], name: 'x', now }), 'InvalidInviteError')
  throwsNamed(() => mintInvite({ addrs: [lan], name: 'x'.repeat(65), now }), 'InvalidInviteError', /name/)
})

test('round trip, and a unicode name', () => {
  const { invite } = mintInvite({ addrs: [lan, lanWs, viaRelay], name: 'Bürо — 工作站', ttlMs: 90_000, now })
  const text = encodeInvite(invite)
  assert.ok(text.startsWith(INVITE_PREFIX))
  sameInvite(decodeInvite(text), invite)
  // Whitespace around it and a lower-cased copy still read.
  sameInvite(decodeInvite(`  ${text}\n`), invite)
  sameInvite(decodeInvite(text.toLowerCase()), invite)
})

test('size: under 400 characters with three addrs, QR alphanumeric charset', () => {
  const sizes = [[lan], [lan, lanWs], [lan, lanWs, viaRelay]].map(addrs => {
    const text = encodeInvite(mintInvite({ addrs, name: 'my-desktop', now }).invite)
    assert.match(text, /^[0-9A-Z $%*+\-./:]+$/)
    return text.length
  })
  assert.ok(sizes[2] < 400, `3 addrs: ${sizes[2]} chars`)
  console.log(`invite size for 1/2/3 addrs: ${sizes.join('/')} chars`)
})

test('garbage is an InvalidInviteError', () => {
  throwsNamed(() => decodeInvite('hello world'), 'InvalidInviteError', /not a dispatch invite/)
  throwsNamed(() => decodeInvite(''), 'InvalidInviteError')
  throwsNamed(() => decodeInvite('DISPATCH1:'), 'InvalidInviteError')
  throwsNamed(() => decodeInvite('DISPATCH1:B!!!!'), 'InvalidInviteError')
  throwsNamed(() => decodeInvite('DISPATCH9:BAAAA'), 'InvalidInviteError', /another version/)
  throwsNamed(() => decodeInvite('/not/a/multiaddr'), 'InvalidInviteError')
})

test('a damaged or truncated invite is an InvalidInviteError, not a wrong secret later', () => {
  const text = encodeInvite(mintInvite({ addrs: [lan, viaRelay], name: 'studio', now }).invite)
  const i = INVITE_PREFIX.length + 20
  const flipped = text.slice(0, i) + (text[i] === 'A' ? 'C' : 'A') + text.slice(i + 1)
  throwsNamed(() => decodeInvite(flipped), 'InvalidInviteError', /damaged/)
  throwsNamed(() => decodeInvite(text.slice(0, -10)), 'InvalidInviteError')
})

test('a bare multiaddr never pairs: InviteMissingSecretError', () => {
  throwsNamed(() => decodeInvite(lan), 'InviteMissingSecretError', /bare multiaddr/)
  throwsNamed(() => decodeInvite(viaRelay), 'InviteMissingSecretError', /bare multiaddr/)
})

test('an invite without a secret never pairs: InviteMissingSecretError', () => {
  const { invite } = mintInvite({ addrs: [lan], name: 'studio', now })
  const secretless = { ...invite, secret: new Uint8Array(0) }
  throwsNamed(() => decodeInvite(encodeInvite(secretless)), 'InviteMissingSecretError', /no secret/)
  throwsNamed(() => assertInviteUsable(secretless, now), 'InviteMissingSecretError')
  throwsNamed(() => decodeInvite(encodeInvite({ ...invite, secret: invite.secret.subarray(0, 8) })), 'InvalidInviteError', /shorter/)
})

test('expiry: usable before, InviteExpiredError from expiresAt on', () => {
  const { invite } = mintInvite({ addrs: [lan], name: 'studio', ttlMs: 60_000, now })
  const decoded = decodeInvite(encodeInvite(invite))
  assertInviteUsable(decoded, now)
  assertInviteUsable(decoded, now + 59_999)
  throwsNamed(() => assertInviteUsable(decoded, now + 60_000), 'InviteExpiredError', /expired/)
})

test('proof: binds the secret to both identities and the nonce', async () => {
  const { secret } = mintInvite({ addrs: [lan], name: 'studio', now })
  const nonce = new Uint8Array([1, 2, 3])
  const proof = await inviteProof(secret, phone, desktop, nonce)
  assert.is(proof.length, 32)
  assert.ok(await verifyInviteProof(secret, phone, desktop, proof, nonce))
  // Replayed by a third identity, against another desktop, with another nonce or secret: useless.
  assert.not.ok(await verifyInviteProof(secret, thief, desktop, proof, nonce))
  assert.not.ok(await verifyInviteProof(secret, phone, relay, proof, nonce))
  assert.not.ok(await verifyInviteProof(secret, phone, desktop, proof, new Uint8Array([1, 2, 4])))
  assert.not.ok(await verifyInviteProof(mintInvite({ addrs: [lan], name: 's', now }).secret, phone, desktop, proof, nonce))
  assert.not.ok(await verifyInviteProof(secret, phone, desktop, proof.subarray(0, 16), nonce))
  // Peer ids swapped (phone and desktop roles) give a different proof too.
  assert.not.equal([...await inviteProof(secret, desktop, phone, nonce)], [...proof])
})

test('verification code: six digits, same on both sides, differs per identity', async () => {
  const { secret } = mintInvite({ addrs: [lan], name: 'studio', now })
  const code = await verificationCode(secret, phone, desktop)
  assert.match(code, /^\d{6}$/)
  assert.is(await verificationCode(new Uint8Array(secret), phone, desktop), code)
  assert.is.not(await verificationCode(secret, thief, desktop), code)
})

test('proof and code are the bytes Web Crypto made before (peers on either side of the change still pair)', async () => {
  // The former implementation, verbatim: Web Crypto HMAC-SHA256 over the same binding message.
  const webCryptoMac = async (key: Uint8Array, label: string, a: string, b: string, nonce: Uint8Array): Promise<Uint8Array> => {
    const message = encoding.encode(enc => {
      encoding.writeVarString(enc, label)
      encoding.writeVarString(enc, a)
      encoding.writeVarString(enc, b)
      encoding.writeVarUint8Array(enc, nonce)
    })
    const k = await crypto.subtle.importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    return new Uint8Array(await crypto.subtle.sign('HMAC', k, message))
  }
  for (let i = 0; i < 20; i++) {
    const { secret } = mintInvite({ addrs: [lan], name: 'studio', now })
    const nonce = crypto.getRandomValues(new Uint8Array(i))
    assert.equal([...await inviteProof(secret, phone, desktop, nonce)], [...await webCryptoMac(secret, 'dispatch/pair/proof/1', phone, desktop, nonce)])
    const mac = await webCryptoMac(secret, 'dispatch/pair/code/1', phone, desktop, new Uint8Array(0))
    const code = String(new DataView(mac.buffer).getUint32(0) % 1_000_000).padStart(6, '0')
    assert.is(await verificationCode(secret, phone, desktop), code)
  }
})

test('the invite module runs without Web Crypto (a page on plain http://<lan-host> has no crypto.subtle)', async () => {
  const subtle = Object.getOwnPropertyDescriptor(Crypto.prototype, 'subtle')
  assert.ok(subtle !== undefined, 'Node exposes crypto.subtle as a prototype getter')
  Object.defineProperty(Crypto.prototype, 'subtle', { get: () => undefined, configurable: true })
  try {
    assert.is(crypto.subtle, undefined)
    const { invite, secret } = mintInvite({ addrs: [lan], name: 'studio', now })
    const decoded = decodeInvite(encodeInvite(invite))
    const proof = await inviteProof(decoded.secret, phone, desktop)
    assert.ok(await verifyInviteProof(secret, phone, desktop, proof))
    assert.match(await verificationCode(secret, phone, desktop), /^\d{6}$/)
  } finally {
    Object.defineProperty(Crypto.prototype, 'subtle', subtle)
  }
})

test.run()
