// The scene of the adversarial e2e suites (adversary*.test.ts): a real `dispatch desktop` with
// its agent, real phones paired through the CLI, and "mallory", a malicious member written only
// against the public engine API (createSyncNode, openSpace, acceptInvite from core/index.ts, and
// plain Yjs on the space's document).

import type * as Y from 'yjs'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { createSyncNode, acceptInvite, MemoryStore, TRUST_MAP, signStatement } from '../../core/index.ts'
import type { Space, SyncNode } from '../../core/index.ts'
import { freePort, openPair, makeScratch } from './cli-process.ts'
import type { DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone } from './tasks-fixture.ts'

export interface Mallory { node: SyncNode, space: Space, key: PrivateKey }

export interface Scene {
  root: string
  desk: string
  d: { proc: DispatchProcess, ready: any }
  /** Phone homes by name. */
  phones: Record<string, string>
  mallory: Mallory
  /** Engine nodes the suite made (stopped by `cleanup`). */
  nodes: SyncNode[]
  cleanup: () => Promise<void>
}

export async function until (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/** A desktop running its agent, the named phones paired with it, and mallory paired and synced. */
export async function startScene (prefix: string, phoneNames: string[]): Promise<Scene> {
  const { root, home, running, cleanup } = await makeScratch(prefix)
  const nodes: SyncNode[] = []
  const desk = home()
  const d = await startAgentDesktop(desk, 'desk', await freePort(), join(root, 'work'))
  running.add(d.proc)
  const phones: Record<string, string> = {}
  for (const name of phoneNames) {
    phones[name] = home()
    await pairPhone(desk, phones[name], name)
  }
  const mallory = await malicious(desk, d.ready.peerId, 'mallory', nodes)
  return {
    root,
    desk,
    d,
    phones,
    mallory,
    nodes,
    cleanup: async () => {
      await Promise.all(nodes.map(async n => await n.stop()))
      await cleanup()
    }
  }
}

/**
 * The attacker: an engine node that pairs with the desktop like any phone, then writes what it
 * likes. It opens its space without an identity, so its own engine's gate does not stand in its
 * way (it would write back the revocations it deletes), and signs with its key by hand.
 */
async function malicious (desk: string, deskId: string, name: string, nodes: SyncNode[]): Promise<Mallory> {
  const key = await generateKeyPair('Ed25519')
  const node = await createSyncNode({ listen: [], privateKey: key })
  nodes.push(node)
  const space = await node.openSpace('dispatch', { storage: new MemoryStore(), identity: undefined })
  const pair = await openPair(desk)
  const accepted = await acceptInvite(node, space, pair.invite, { name, role: 'phone' })
  await pair.proc.waitFor(l => l.event === 'paired')
  await node.connect(accepted.addrs)
  await until(() => space.session(deskId)?.synced === true, `${name} synced with the desktop`)
  return { node, space, key }
}

/** Publish a statement signed with mallory's own key (a valid signature, no right behind it). */
export function signAsMallory (mallory: Mallory, statement: { kind: 'admit', peer: string, role: string, rights: string[] } | { kind: 'revoke', peer: string }): void {
  const signed = signStatement(mallory.key, { ...statement, space: 'dispatch', by: mallory.node.peerId, at: Date.now() } as any)
  mallory.space.doc.getMap(TRUST_MAP).set(signed.sig, signed.body)
}

/** The desktop's `refused` event naming `peer` whose reason matches. */
export async function refusedBy (scene: Scene, peer: string, reason: RegExp, timeoutMs = 30_000): Promise<any> {
  return await scene.d.proc.waitFor(l => l.event === 'refused' && l.peer === peer && reason.test(l.reason), timeoutMs)
}

/** Mallory's copy of a task's map. */
export function taskMap (mallory: Mallory, id: string): Y.Map<unknown> {
  return mallory.space.doc.getMap('tasks').get(id) as Y.Map<unknown>
}
