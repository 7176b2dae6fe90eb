// mDNS on the LAN: a desktop restarted on a new port is found again by its phone without
// re-pairing. Skipped, saying why, where multicast does not work on this machine.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createSocket } from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PeerProcess } from './peer-process.ts'

/** Does a multicast datagram sent on this host come back to a member of the group? */
async function multicastWorks (): Promise<string | null> {
  const group = '239.255.77.77'
  const receiver = createSocket({ type: 'udp4', reuseAddr: true })
  const sender = createSocket('udp4')
  try {
    const port = await new Promise<number>((resolve, reject) => {
      receiver.once('error', reject)
      receiver.bind(0, () => { receiver.addMembership(group); resolve(receiver.address().port) })
    })
    const got = new Promise<boolean>(resolve => {
      const timer = setTimeout(() => resolve(false), 2000)
      receiver.once('message', () => { clearTimeout(timer); resolve(true) })
    })
    sender.send('probe', port, group)
    return await got ? null : 'a multicast probe sent on this host never came back'
  } catch (err) {
    return `multicast unusable: ${(err as Error).message}`
  } finally {
    receiver.close()
    sender.close()
  }
}

const skipped = await multicastWorks()
const peers: PeerProcess[] = []
const dirs: string[] = []

test.after(async () => {
  await Promise.all(peers.map(async p => await p.stop()))
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
})

const name = 'a desktop restarted on a new port is found again by its phone through mDNS, without re-pairing'
if (skipped !== null) {
  // Reported as a skip (uvu's "Skipped:", which the runner counts), never as a passing test.
  console.log(`SKIPPED: ${name}: ${skipped}`)
  test.skip(`${name} (skipped: ${skipped})`, () => {})
} else {
  test(name, async () => {
    const [deskDir, phoneDir] = [await mkdtemp(join(tmpdir(), 'dispatch-mdns-')), await mkdtemp(join(tmpdir(), 'dispatch-mdns-'))]
    dirs.push(deskDir, phoneDir)
    const mdns = { interval: 500 }
    let desktop = await PeerProcess.spawn(deskDir, 'e2e', { mdns })
    peers.push(desktop)
    const phone = await PeerProcess.spawn(phoneDir, 'e2e', { mdns, addressBook: true })
    peers.push(phone)
    await desktop.call('allow', { peer: phone.peerId })
    await phone.call('allow', { peer: desktop.peerId })
    await phone.call('connect', { addrs: desktop.addrs })
    await desktop.call('set', { key: 'before', value: 1 })
    await phone.call('waitFor', { key: 'before', value: 1 })
    const oldAddrs = desktop.addrs

    await desktop.stop()
    desktop = await PeerProcess.spawn(deskDir, 'e2e', { mdns }) // same identity, new ephemeral ports
    peers.push(desktop)
    assert.not.equal(desktop.addrs, oldAddrs)
    await desktop.call('allow', { peer: phone.peerId })
    const started = Date.now()
    await desktop.call('set', { key: 'after', value: 2 })
    let deadline: ReturnType<typeof setTimeout> | undefined
    const found = await Promise.race([
      phone.call('waitFor', { key: 'after', value: 2 }).then(() => true),
      new Promise<boolean>(resolve => { deadline = setTimeout(() => resolve(false), 30_000) })
    ]).finally(() => clearTimeout(deadline)) // a live timer would keep this file running 30 s
    assert.ok(found, `not found again in 30 s; the phone knows ${JSON.stringify(await phone.call('knownAddrs', { peer: desktop.peerId }))}, the desktop listens on ${JSON.stringify(desktop.addrs)}`)
    const { book } = await phone.call<{ book: string[] }>('knownAddrs', { peer: desktop.peerId })
    assert.ok(desktop.addrs.some(a => book.includes(a)), `the phone's address book has the new address: ${JSON.stringify(book)}`)
    console.log(`  found again through mDNS in ${Date.now() - started} ms`)
  })
}

test.run()
