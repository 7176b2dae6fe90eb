// The device use cases: this device's status, the paired devices (online, what they run, the
// default desktop), choosing the default, and revocation.

import type { DeviceRef, DeviceView, RevokeInput, RevokeResult, StatusResult } from './api.ts'
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
  const warnings = await device.refusals.counts()
  return device.space.members.list()
    .filter(m => input.includeSelf === true || m.peerId !== device.peerId)
    .map(m => {
      const self = m.peerId === device.peerId
      const revoked = m.revokedAt !== undefined
      const view: DeviceView = {
        ...m,
        revoked,
        online: !revoked && (self || online.has(m.peerId)),
        default: m.peerId === byDefault,
        self,
        pairedByName: m.pairedBy === '' ? '' : ctx.nameOf(m.pairedBy),
        warnings: warnings.get(m.peerId) ?? 0
      }
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

/**
 * Revoke in the space (a signed statement that spreads to every member), then cut it off here at
 * once; with `withAdmitted`, every device it admitted too (its admissions from before its
 * revocation would otherwise still stand).
 */
export async function revokeDevice (ctx: AppContext, input: RevokeInput): Promise<RevokeResult> {
  const { device } = ctx
  const member = ctx.findDevice(input.device)
  const admitted = input.withAdmitted === true ? device.space.trust?.admittedBy(member.peerId).filter(p => p !== device.peerId) ?? [] : []
  for (const peer of [member.peerId, ...admitted]) device.space.members.revoke(peer, device.peerId)
  await device.space.flush()
  for (const peer of [member.peerId, ...admitted]) await device.node.forget(peer)
  const after = device.space.members.get(member.peerId)
  return { peerId: member.peerId, name: member.name, revokedAt: after?.revokedAt ?? null, alsoRevoked: admitted.map(peerId => ({ peerId, name: ctx.nameOf(peerId) })) }
}
