// Test fixture: a desktop process for the browser tests, built from the same parts `dispatch desktop`
// uses (node + FileStore space + pairing + agent with the shell executor), listening on loopback
// WebSockets and WebRTC-direct. Prints JSON lines; stdin commands: "invite", "revoke <peerId>".
// Used until `dispatch desktop --web` carries the agent; argv: HOME ALLOW_DIR

import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { createSyncNode, loadOrCreateIdentity, FileStore, PairingService } from '../../core/index.ts'
import { webRTCDirectListenAddr } from '../../core/net/libp2p.ts'
import { Agent } from '../agent/agent.ts'
import { SPACE_NAME } from './phone.ts'

const [home, allow] = process.argv.slice(2)
const out = (o: object): void => { process.stdout.write(JSON.stringify(o) + '\n') }
const node = await createSyncNode({
  privateKey: await loadOrCreateIdentity(join(home, 'identity.key')),
  listen: ['/ip4/127.0.0.1/tcp/0/ws', webRTCDirectListenAddr('127.0.0.1')]
})
const space = await node.openSpace(SPACE_NAME, { storage: new FileStore({ dir: join(home, 'store') }) })
space.members.add({ peerId: node.peerId, name: 'test-desktop', role: 'desktop', pairedAt: Date.now(), pairedBy: node.peerId })
const pairing = new PairingService(node, space, { name: 'test-desktop' })
await pairing.start()
const agent = new Agent({
  doc: space.doc, deviceId: node.peerId, home, executor: 'shell', keepAwake: false, heartbeatMs: 1000,
  grants: { readWrite: [allow], readOnly: [], terminal: true, network: false }, log: () => {}
})
await agent.start()
node.on('gate-refused', (peer, where) => { out({ event: 'gate-refused', peer, where }) })
out({ event: 'ready', peerId: node.peerId, addrs: node.addrs() })
createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(' ')
  if (cmd === 'invite') {
    const invite = pairing.openInvite({ ttlMs: 120_000 })
    invite.paired.then(m => { out({ event: 'paired', peerId: m.peerId, name: m.name }) }, () => {})
    out({ event: 'invite', invite: invite.text })
  } else if (cmd === 'revoke') {
    space.members.revoke(arg, node.peerId)
    void node.forget(arg).then(() => { out({ event: 'revoked', peerId: arg }) })
  } else if (cmd === 'quit') {
    void agent.stop().then(async () => { await node.stop(); process.exit(0) })
  }
})
