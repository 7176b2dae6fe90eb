// Shared notes: a small notes app on the sync engine. Each device keeps its notes on disk
// and syncs them with the devices it paired with by invite.
//   node examples/notes.ts add TEXT | edit ID TEXT | list    work offline, on this device
//   node examples/notes.ts serve                             stay online; print an invite
//   node examples/notes.ts join INVITE                       pair with a serving device
//   node examples/notes.ts sync                              exchange with paired devices, exit
// Options: --home DIR (default ./notes-home), --name NAME, --listen MULTIADDR (for serve).
// One process per home at a time: stop `serve` before using other verbs on its home.

import { mkdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import * as Y from 'yjs'
import { createSyncNode, loadOrCreateIdentity, FileStore, PairingService, acceptInvite, addressBookFile } from '../core/index.ts'
import type { Space, Storage } from '../core/index.ts'

/** Runs the notes CLI with `argv`, storing under `<home>/store` with `openStorage`. */
export async function runNotes (argv: string[], openStorage: (dir: string) => Promise<Storage>): Promise<void> {
  const { values: opts, positionals: [verb, ...args] } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { home: { type: 'string', default: 'notes-home' }, name: { type: 'string', default: hostname() }, listen: { type: 'string', multiple: true } }
  })
  const home = opts.home
  await mkdir(home, { recursive: true })
  const node = await createSyncNode({
    privateKey: await loadOrCreateIdentity(join(home, 'identity.key')),
    listen: verb === 'serve' ? (opts.listen ?? ['/ip4/0.0.0.0/tcp/4420']) : [],
    addressBook: addressBookFile(join(home, 'peers.json')), // where the devices we paired with listen
    dialMembers: verb === 'serve' // a one-shot verb dials only when it syncs
  })
  const space = await node.openSpace('notes', { storage: await openStorage(join(home, 'store')) })
  const notes = space.doc.getMap<Y.Map<unknown>>('notes')
  const print = (): void => {
    const all = Array.from(notes.entries()).sort(([, a], [, b]) => Number(a.get('at')) - Number(b.get('at')))
    if (all.length === 0) console.log('(no notes)')
    for (const [id, note] of all) console.log(`${id}  ${String(note.get('text'))}`)
  }

  switch (verb) {
    case 'add': {
      const id = crypto.randomUUID().slice(0, 6)
      const note = new Y.Map<unknown>()
      note.set('at', Date.now())
      note.set('text', new Y.Text(args.join(' ')))
      notes.set(id, note)
      console.log(`added ${id}`)
      break
    }
    case 'edit': {
      const text = notes.get(args[0])?.get('text')
      if (!(text instanceof Y.Text)) throw new Error(`no note ${args[0]}`)
      space.doc.transact(() => { text.delete(0, text.length); text.insert(0, args.slice(1).join(' ')) })
      console.log(`edited ${args[0]}`)
      break
    }
    case 'list': print(); break
    case 'serve': return await serve(space, opts.name)
    case 'join': {
      const desk = await acceptInvite(node, space, args[0], { name: opts.name })
      console.log(`paired with ${desk.name} (code ${desk.code})`)
      await node.connect(desk.addrs) // into the address book: `sync` finds it there
      await exchange(space, [desk.peerId])
      print()
      break
    }
    case 'sync': await exchange(space, node.knownPeers().map(p => p.peerId)); print(); break
    default: throw new Error(`unknown verb ${String(verb)}: use add, edit, list, serve, join or sync`)
  }
  await node.stop() // flushes the store; closing gracefully sends what is still queued for peers

  async function serve (space: Space, name: string): Promise<void> {
    const pairing = new PairingService(node, space, { name, peerRole: 'device' })
    await pairing.start()
    const open = pairing.openInvite({ ttlMs: 10 * 60_000 })
    console.log(`invite: ${open.text}`)
    open.paired.then(member => console.log(`paired with ${member.name}`), () => console.log('the invite expired unused'))
    space.on('synced', peer => console.log(`synced with ${space.members.get(peer)?.name ?? peer}`))
    notes.observeDeep((_events, tr) => { if (!tr.local) { console.log('notes changed by a peer:'); print() } })
    await new Promise(resolve => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve) })
    await node.stop()
  }

  /** Connect to each device; wait until we hold what it has, and it confirms it holds ours. */
  async function exchange (space: Space, peers: string[]): Promise<void> {
    for (const peer of peers) {
      const synced = new Promise<void>(resolve => space.on('synced', function done (p) { if (p === peer) { space.off('synced', done); resolve() } }))
      await node.connectPeer(peer)
      if (space.session(peer)?.synced !== true) await synced
      await space.confirm(peer) // before this process exits and takes what is in flight with it
    }
    console.log(`synced with ${peers.length} device(s)`)
  }
}

if (import.meta.main) await runNotes(process.argv.slice(2), async dir => new FileStore({ dir }))
