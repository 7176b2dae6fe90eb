// `dispatch pair`: open an invite on this desktop, show it (text + QR, PNG on request),
// confirm the phone that uses it. Through the running desktop when there is one.

import { callDevice } from '../../device/reach.ts'
import { renderQrTerminal, writeQrPng } from '../qr.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'
import { confirmOnTerminal } from './confirm-pairing.ts'

export const pair: Verb = {
  name: 'pair',
  usage: '[--ttl SECONDS] [--png FILE] [--yes] [--listen MULTIADDR]...',
  summary: 'show an invite (QR) for a phone to join, and confirm it',
  options: {
    ttl: { type: 'string' },
    png: { type: 'string' },
    yes: { type: 'boolean' },
    listen: { type: 'string', multiple: true }
  },
  async run (ctx) {
    const ttl = ctx.values.ttl === undefined ? 300 : Number(ctx.values.ttl)
    if (!Number.isFinite(ttl) || ttl <= 0) throw new UsageError('--ttl takes a positive number of seconds')
    const png = ctx.values.png as string | undefined
    const confirm = confirmOnTerminal(ctx)
    let shown: Promise<void> = Promise.resolve()
    const result = await callDevice(ctx.home, 'pair', { ttlMs: Math.round(ttl * 1000), yes: ctx.values.yes === true }, {
      open: { role: 'desktop', listen: ctx.values.listen as string[] | undefined, connect: true },
      serve: true,
      signal: ctx.signal,
      onEvent: (event, call) => {
        if (event?.event === 'invite') {
          shown = show(event.invite as string, event.expiresAt as string)
          return
        }
        confirm(event, call)
      }
    })
    await shown
    if (ctx.json) ctx.printJson({ event: 'paired', peerId: result.peerId, name: result.name })
    else ctx.print(`paired with "${result.name}" (${result.peerId})`)

    async function show (invite: string, expiresAt: string): Promise<void> {
      if (png !== undefined) await writeQrPng(png, invite)
      if (ctx.json) { ctx.printJson({ event: 'invite', invite, expiresAt }); return }
      ctx.print(await renderQrTerminal(invite))
      ctx.print(invite)
      ctx.print(`scan or paste it with: dispatch join INVITE   (valid until ${expiresAt}${png !== undefined ? `; QR written to ${png}` : ''})`)
    }
  }
}
