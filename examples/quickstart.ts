// Quickstart: two devices in two processes replicate one Yjs document over
// libp2p on 127.0.0.1, each keeping it on disk. Run with `npm run quickstart`.

import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createSyncNode, FileStore, loadOrCreateIdentity } from '../core/index.ts'

const [role, home, peerId, addr] = process.argv.slice(2)

if (role === 'laptop') {
  // The second device: connect to the first, add a line, wait for its answer.
  const node = await createSyncNode({ privateKey: await loadOrCreateIdentity(join(home, 'identity.key')) })
  const space = await node.openSpace('quickstart', { storage: new FileStore({ dir: join(home, 'store') }), allow: [peerId] })
  const text = space.doc.getText('notes')
  const synced = new Promise<void>(resolve => space.once('synced', () => resolve()))
  await node.connect(addr)
  await synced
  console.log(`[laptop]  synced; the document reads: ${JSON.stringify(text.toString())}`)
  text.insert(text.length, 'laptop was here. ')
  await space.flush()
  console.log('[laptop]  wrote "laptop was here." (on disk before this line)')
  await new Promise<void>(resolve => {
    const check = (): void => { if (text.toString().includes('desktop replies')) resolve() }
    text.observe(check)
    check() // the reply may have arrived while our line was being written to disk
  })
  console.log(`[laptop]  received the reply: ${JSON.stringify(text.toString())}`)
  await node.stop()
} else {
  // The first device: listen, start the second, answer its line.
  const dirs = [await mkdtemp(join(tmpdir(), 'dispatch-desktop-')), await mkdtemp(join(tmpdir(), 'dispatch-laptop-'))]
  const laptopKey = await loadOrCreateIdentity(join(dirs[1], 'identity.key'))
  const node = await createSyncNode({ privateKey: await loadOrCreateIdentity(join(dirs[0], 'identity.key')) })
  const laptopId = (await import('@libp2p/peer-id')).peerIdFromPrivateKey(laptopKey).toString()
  const space = await node.openSpace('quickstart', { storage: new FileStore({ dir: join(dirs[0], 'store') }), allow: [laptopId] })
  const text = space.doc.getText('notes')
  text.insert(0, 'desktop started the note. ')
  await space.flush()
  console.log(`[desktop] listening on ${node.addrs()[0]}`)
  console.log('[desktop] wrote "desktop started the note."')
  space.on('peer-connected', peer => console.log(`[desktop] ${peer.slice(-8)} connected (Noise-encrypted, Yamux-multiplexed)`))
  text.observe(event => {
    if (event.transaction.local || !text.toString().includes('laptop was here')) return
    console.log(`[desktop] received: ${JSON.stringify(text.toString())}`)
    text.insert(text.length, 'desktop replies. ')
  })
  const child = spawn(process.execPath, [import.meta.filename, 'laptop', dirs[1], node.peerId, node.addrs()[0]], { stdio: ['ignore', 'pipe', 'inherit'] })
  createInterface({ input: child.stdout }).on('line', line => console.log(line))
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  await node.stop()
  await Promise.all(dirs.map(async d => await rm(d, { recursive: true, force: true })))
  console.log(code === 0 ? '[desktop] done: both devices hold the same document.' : `[desktop] the laptop process failed (exit ${code})`)
  process.exitCode = code ?? 1
}
