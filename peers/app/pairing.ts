// The pairing use cases: `pair` opens an invite on a desktop and confirms the device that uses
// it; `join` pairs this device with the desktop of an invite, then syncs once.

import { acceptInvite } from '../../core/pairing/protocol.ts'
import { decodeInvite } from '../../core/pairing/invite.ts'
import type { CallOptions, DeviceRef, JoinResult, PairEvent, PairInput } from './api.ts'
import type { AppContext } from './context.ts'
import { waitSynced } from './delivery.ts'

/** Time `join` waits for the first sync with the desktop after pairing. */
const JOIN_SYNC_TIMEOUT_MS = 10_000

/** This device cannot open invites (only a desktop does). */
export class NotInvitableError extends Error {
  name = 'NotInvitableError'
}

export async function pairDevice (ctx: AppContext, input: PairInput, options: CallOptions<PairEvent> = {}): Promise<DeviceRef> {
  const { pairing } = ctx.device
  if (pairing === null) throw new NotInvitableError(`"${ctx.device.name}" does not open invites; pair from a desktop (dispatch pair)`)
  const open = pairing.openInvite({ ttlMs: input.ttlMs, confirm: options.confirm })
  const onAbort = (): void => { open.cancel() }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  try {
    // The only place the secret leaves: the invite line itself.
    options.onEvent?.({ event: 'invite', invite: open.text, expiresAt: new Date(open.expiresAt).toISOString(), webUrls: ctx.device.webUrls() })
    const member = await open.paired
    return { peerId: member.peerId, name: member.name }
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
  }
}

export async function joinDesktop (ctx: AppContext, input: { invite: string }, options: CallOptions = {}): Promise<JoinResult> {
  const { device } = ctx
  const invite = decodeInvite(input.invite)
  const accepted = await acceptInvite(device.node, device.space, { ...invite, addrs: device.inviteAddrs(invite) }, {
    name: device.name,
    role: device.role,
    confirm: options.confirm,
    signal: options.signal
  })
  // Already connected by pairing: `connect` puts the invite's addresses in the address book, and
  // the node keeps this member connected from now on. Joining ends at the first sync: paired
  // through a relay, the dial that follows is the move to a direct address, which may try each
  // unreachable LAN address of the desktop for seconds; it goes on in the background.
  const stop = new AbortController()
  let dialError: Error | undefined
  device.node.connect(accepted.addrs).catch((err: Error) => { dialError = err; stop.abort() })
  try {
    await waitSynced(ctx, accepted.peerId, JOIN_SYNC_TIMEOUT_MS, stop.signal)
  } catch (err) {
    // Paired either way: the first sync happens whenever the node (which keeps redialling) reaches it.
    device.report(`paired with "${accepted.name}"; the first sync is still to come (${(dialError ?? err as Error).message})`)
  }
  await device.space.flush()
  return { peerId: accepted.peerId, name: accepted.name, code: accepted.code }
}
