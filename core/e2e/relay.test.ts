// Devices on "different networks" (separate processes that are only told each other's
// relay address) sync through a circuit relay: direct beats relayed, a relay restart
// heals, a relay's data limit does not stop a large transfer, strangers are refused.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerProcess } from './peer-process.ts'
import { RelayProcess } from './relay-process.ts'

const dirs: string[] = []
const peers: PeerProcess[] = []
const relays: RelayProcess[] = []

async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'dispatch-relay-'))
  dirs.push(dir)
  return dir
}

async function relay (options: Parameters<typeof RelayProcess.spawn>[1] = {}, keyFile?: string): Promise<RelayProcess> {
  const r = await RelayProcess.spawn(keyFile ?? join(await tempDir(), 'relay.key'), options)
  relays.push(r)
  return r
}

async function device (options: Record<string, unknown> = {}): Promise<PeerProcess> {
  const peer = await PeerProcess.spawn(await tempDir(), 'e2e', options)
  peers.push(peer)
  return peer
}

async function until<T> (what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value !== undefined && value !== null && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** The desktop's `/p2p-circuit` addresses, once its reservation holds. */
async function circuitAddrs (desktop: PeerProcess, relayId?: string): Promise<string[]> {
  return await until('a relay reservation', async () => {
    const addrs = (await desktop.call<string[]>('addrs')).filter(a => a.includes('/p2p-circuit') && (relayId === undefined || a.includes(relayId)))
    return addrs.length > 0 ? addrs : undefined
  })
}

async function befriend (a: PeerProcess, b: PeerProcess): Promise<void> {
  await a.call('allow', { peer: b.peerId })
  await b.call('allow', { peer: a.peerId })
}

interface Conn { peer: string, addr: string, limited: boolean }
async function connectionsTo (from: PeerProcess, to: PeerProcess): Promise<Conn[]> {
  return (await from.call<Conn[]>('connections')).filter(c => c.peer === to.peerId)
}

test.after(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  await Promise.all(relays.map(async r => await r.stop()))
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
})

test('only the relay address known: sync works through the relay, over a /p2p-circuit connection', async () => {
  const r = await relay()
  // Neither side listens directly (both behind NAT, as far as the other knows): only the relay joins them.
  const desktop = await device({ relays: r.addrs, listen: [] })
  const phone = await device({ listen: [] })
  await befriend(desktop, phone)
  const circuit = await circuitAddrs(desktop, r.peerId)
  await phone.call('connect', { addrs: circuit })
  await desktop.call('set', { key: 'task-1', value: 'through the relay' })
  await phone.call('waitFor', { key: 'task-1', value: 'through the relay' })
  await phone.call('set', { key: 'status-1', value: 'seen' })
  await desktop.call('waitFor', { key: 'status-1', value: 'seen' })
  const conns = await connectionsTo(phone, desktop)
  assert.ok(conns.length > 0 && conns.every(c => c.addr.includes('/p2p-circuit') && c.limited), JSON.stringify(conns))
})

test('direct and relay addresses known: the connection in use is direct; a relayed one gives way to a later direct one', async () => {
  const r = await relay()
  const desktop = await device({ relays: r.addrs })
  const phone = await device()
  const late = await device()
  await befriend(desktop, phone)
  await befriend(desktop, late)
  const circuit = await circuitAddrs(desktop, r.peerId)
  const direct = desktop.addrs

  await phone.call('connect', { addrs: [...circuit, ...direct] }) // relay listed first on purpose
  await desktop.call('set', { key: 'both', value: 1 })
  await phone.call('waitFor', { key: 'both', value: 1 })
  const conns = await connectionsTo(phone, desktop)
  assert.ok(conns.length > 0 && conns.every(c => !c.addr.includes('/p2p-circuit') && !c.limited), JSON.stringify(conns))

  // Told only the relay address, `late` learns the direct ones from the desktop (identify)
  // and moves to a direct connection by itself; the relayed one is closed.
  await late.call('connect', { addrs: circuit })
  await desktop.call('set', { key: 'late', value: 1 })
  await late.call('waitFor', { key: 'late', value: 1 })
  await until('the relayed connection to close', async () => {
    const now = await connectionsTo(late, desktop)
    return now.length > 0 && now.every(c => !c.limited)
  })
  await desktop.call('set', { key: 'late', value: 2 })
  await late.call('waitFor', { key: 'late', value: 2 })
})

test('the relay restarts mid-session: both sides reconnect, and a change made during the outage arrives once', async () => {
  const keyFile = join(await tempDir(), 'relay.key')
  const first = await relay({}, keyFile)
  const port = first.addrs[0].split('/tcp/')[1].split('/')[0]
  const desktop = await device({ relays: first.addrs, listen: [] }) // reachable only through the relay
  const phone = await device({ listen: [] })
  await befriend(desktop, phone)
  await phone.call('connect', { addrs: await circuitAddrs(desktop, first.peerId) })
  await desktop.call('insertText', { text: '[before]' })
  await until('the first change', async () => (await phone.call('get')).t === '[before]')

  await first.kill()
  await desktop.call('insertText', { text: '[during]' })
  await phone.call('set', { key: 'phone-during', value: true })
  const started = Date.now()
  const second = await relay({ listen: [`/ip4/127.0.0.1/tcp/${port}`] }, keyFile)
  assert.is(second.peerId, first.peerId)
  await until('the change made during the outage', async () => (await phone.call('get')).t === '[before][during]', 30_000)
  await desktop.call('waitFor', { key: 'phone-during', value: true })
  const healMs = Date.now() - started
  const text = (await desktop.call('get')).t as string
  assert.is(text.split('[during]').length - 1, 1)
  assert.ok((await connectionsTo(phone, desktop)).every(c => c.limited))
  console.log(`  relay restart healed in ${healMs} ms`)
})

test('5 MB crosses a relay that cuts every connection after 1 MiB: sync resumes across cuts, sha256 matches', async () => {
  const r = await relay({ limits: { dataLimitBytes: 1024 * 1024, durationLimitMs: 60_000 } })
  const desktop = await device({ relays: r.addrs, listen: [] }) // reachable only through the relay
  const phone = await device({ listen: [] })
  await befriend(desktop, phone)
  await phone.call('connect', { addrs: await circuitAddrs(desktop, r.peerId) })
  await desktop.call('set', { key: 'hello', value: 1 })
  await phone.call('waitFor', { key: 'hello', value: 1 })
  const started = Date.now()
  const sha256 = await desktop.call<string>('setBlob', { key: 'output', size: 5 * 1024 * 1024, seed: 7 })
  const got = await until('the 5 MB blob', async () => {
    const h = await phone.call<{ size: number, sha256: string } | null>('blobHash', { key: 'output' })
    return h !== null && h.size === 5 * 1024 * 1024 ? h : undefined
  }, 120_000)
  assert.is(got.sha256, sha256)
  const cuts = phone.events.filter(e => e.event === 'disconnected').length
  assert.ok(cuts >= 4, `the relay cut ${cuts} connections; expected at least 4 for 5 MB at 1 MiB each`)
  console.log(`  5 MB through a 1 MiB-per-connection relay in ${Date.now() - started} ms, ${cuts} cuts`)
})

test('an unpaired peer reaching the desktop through the relay is refused at the gate', async () => {
  const r = await relay()
  const desktop = await device({ relays: r.addrs })
  const stranger = await device()
  await stranger.call('allow', { peer: desktop.peerId }) // the stranger wants in; the desktop never paired it
  const circuit = await circuitAddrs(desktop, r.peerId)
  const before = (await desktop.call('peers')).refusals.connection as number
  await stranger.call('connect', { addrs: circuit }).then(() => {}, () => {})
  await until('a refusal at the gate', async () => ((await desktop.call('peers')).refusals.connection as number) > before)
  assert.equal(await connectionsTo(desktop, stranger), [])
  assert.equal((await desktop.call('get')).m, {})
})

test.run()
