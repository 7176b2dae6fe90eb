// Web Push end to end with a real `dispatch desktop` process: a paired phone (the phone's home,
// opened in this process as the page's runtime would be) reads the desktop's VAPID key from its
// presence, gives back a subscription at a push service on 127.0.0.1 (which verifies the VAPID
// token and decrypts like a real one), and a `$ echo` task it adds comes back as a push naming it.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './cli-process.ts'
import type { DispatchProcess } from './cli-process.ts'
import { startAgentDesktop, pairPhone } from './tasks-fixture.ts'
import { lockHome } from '../home/lock.ts'
import { openApp } from '../device/reach.ts'
import type { HeldApp } from '../device/reach.ts'
import { presenceOf, publishPresence } from '../app/presence.ts'
import { pushService } from '../push/local-push-service.ts'
import type { PushPayload } from '../push/task-push.ts'

const root = await mkdtemp(join(tmpdir(), 'dispatch-web-push-'))
const [deskHome, phoneHome, work] = [join(root, 'desk'), join(root, 'phone'), join(root, 'work')]
let desk: { proc: DispatchProcess, ready: any }
let phone: HeldApp | undefined
let service: Awaited<ReturnType<typeof pushService>> | undefined

/** Polls `cond` (every 50 ms, generous deadline, timer cleared). */
async function until<T> (cond: () => T | undefined | Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await cond()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => { setTimeout(resolve, 50) })
  }
}

test.before(async () => {
  desk = await startAgentDesktop(deskHome, 'studio', await freePort(), work)
  await pairPhone(deskHome, phoneHome)
})

test.after(async () => {
  await phone?.close()
  desk?.proc.child.kill('SIGKILL')
  await desk?.proc.exited
  await service?.close()
  await rm(root, { recursive: true, force: true })
})

test('the desktop publishes its VAPID key, keeps the phone\'s subscription, and pushes when the phone\'s task is done', async () => {
  phone = await openApp({ home: phoneHome, lock: await lockHome(phoneHome), listen: [], mdns: false })
  const { device, app } = phone
  const deskId = String(desk.ready.peerId)
  const vapidKey = await until(() => presenceOf(device.space).get(deskId)?.vapidKey, 'the desktop\'s VAPID key in its presence')
  assert.equal(JSON.parse(await readFile(join(deskHome, 'vapid.json'), 'utf8')).publicKey, vapidKey)
  service = await pushService(vapidKey)
  publishPresence(device.space, { peerId: device.peerId, name: device.name, role: 'phone', push: { to: deskId, subscription: service.subscription } })
  await until(async () => {
    const saved = await readFile(join(deskHome, 'push-subscriptions.json'), 'utf8').catch(() => '{}')
    return (JSON.parse(saved) as Record<string, { endpoint: string }>)[device.peerId]?.endpoint === service!.subscription.endpoint
  }, 'the subscription kept in the desktop\'s home')
  const added = await app.add({ text: '$ echo pushed-home', to: 'studio' })
  assert.is(added.delivered, true)
  await service.until(1)
  assert.equal(service.rejected, [])
  const payload = JSON.parse(service.received[0]!.payload) as PushPayload
  assert.is(payload.taskId, added.id)
  assert.is(payload.status, 'done')
  assert.is(payload.title, 'Task done: $ echo pushed-home')
  assert.is(payload.body, 'pushed-home')
})

test.run()
