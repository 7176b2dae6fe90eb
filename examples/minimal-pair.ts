// Minimal pair: two processes sync one Y.Text. The first opens a one-time invite and
// starts the second with it; the second accepts, and each writes a line the other reads.
// Run: node examples/minimal-pair.ts
import { spawn } from 'node:child_process'
import { createSyncNode, MemoryStore, PairingService, acceptInvite } from '../core/index.ts'

const invite = process.argv[2]
const node = await createSyncNode() // strangers get in only to pair, only while an invite is open
const space = await node.openSpace('minimal', { storage: new MemoryStore() })
const text = space.doc.getText('note')
const until = (word: string): Promise<void> => new Promise(resolve => {
  const check = (): void => { if (text.toString().includes(word)) resolve() }
  text.observe(check)
  check()
})

if (invite === undefined) {
  const pairing = new PairingService(node, space, { name: 'first' })
  await pairing.start()
  const open = pairing.openInvite()
  const second = spawn(process.execPath, [import.meta.filename, open.text], { stdio: 'inherit' })
  console.log(`first: paired with "${(await open.paired).name}"`)
  text.insert(0, 'hello from first. ')
  await until('second')
  console.log(`first: the note reads "${text.toString()}"`)
  await node.stop()
  await new Promise(resolve => second.on('exit', resolve))
} else {
  const first = await acceptInvite(node, space, invite, { name: 'second' })
  await node.connect(first.addrs) // remembered: reconnects by itself from now on
  await until('first')
  text.insert(text.length, 'hello from second.')
  await new Promise(resolve => space.once('peer-disconnected', resolve)) // the first has read it
  console.log(`second: the note reads "${text.toString()}"`)
  await node.stop()
}
