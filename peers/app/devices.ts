// The device use cases: this device's status, the paired devices (online, what they run, the
// default desktop), choosing the default, and revocation.

import type { DeviceRef, DeviceView, StatusResult } from './api.ts'
import type { AppContext } from './context.ts'
import { presenceOf } from './presence.ts'
import { defaultDesktop, resolveTarget } from './tasks.ts'

export async function deviceStatus (ctx: AppContext): Promise<StatusResult> {
  const { device } = ctx
  return {
    peerId: device.peerId,
    name: device.name,
    role: device.role,
    addrs: device.node.addrs(),
    connected: device.node.connectedPeers(),
    refusals: { ...device.node.refusals }
  }
}

/** Every device in the space, revoked ones included, with online state (connected, or present through another member). */
export async function listDevices (ctx: AppContext, input: { includeSelf?: boolean }): Promise<DeviceView[]> {
  const { device } = ctx
  const presence = presenceOf(device.space)
  const online = new Set([...device.space.connectedPeers(), ...device.node.connectedPeers(), ...presence.keys()])
  const byDefault = (await defaultDesktop(ctx))?.peerId
  return device.space.members.list()
    .filter(m => input.includeSelf === true || m.peerId !== device.peerId)
    .map(m => {
      const self = m.peerId === device.peerId
      const revoked = m.revokedAt !== undefined
      const view: DeviceView = { ...m, revoked, online: !revoked && (self || online.has(m.peerId)), default: m.peerId === byDefault, self }
      const running = presence.get(m.peerId)?.running
      if (view.online && !self && running !== undefined) view.running = running
      return view
    })
}

export async function setDefaultDesktop (ctx: AppContext, input: { device: string }): Promise<DeviceRef> {
  const member = await resolveTarget(ctx, input.device)
  await ctx.device.settings.update(s => { s.defaultDesktop = member.peerId })
  return { peerId: member.peerId, name: member.name }
}

/** Revoke in the space (spreads to every member), then cut it off here at once. */
export async function revokeDevice (ctx: AppContext, input: { device: string }): Promise<DeviceRef & { revokedAt: number | null }> {
  const { device } = ctx
  const member = ctx.findDevice(input.device)
  device.space.members.revoke(member.peerId, device.peerId)
  await device.space.flush()
  await device.node.forget(member.peerId)
  const after = device.space.members.get(member.peerId)
  return { peerId: member.peerId, name: member.name, revokedAt: after?.revokedAt ?? null }
}
