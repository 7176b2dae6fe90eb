// `dispatch join`: pair this device (a phone) with the desktop of an invite, given as text
// or as a PNG/photo of its QR code, then sync the shared space once.

import { withApp } from '../../device/reach.ts'
import { readQrPng } from '../qr.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'
import { confirmOnTerminal } from '../confirm-pairing.ts'

export const join: Verb = {
  name: 'join',
  usage: '(INVITE | --image FILE) [--name N] [--yes]',
  summary: 'pair this device with a desktop from its invite or QR image',
  options: {
    image: { type: 'string' },
    name: { type: 'string' },
    yes: { type: 'boolean' }
  },
  positionals: { min: 0, max: 1 },
  async run (ctx) {
    const image = ctx.values.image as string | undefined
    if ((image === undefined) === (ctx.positionals[0] === undefined)) throw new UsageError('give either an INVITE or --image FILE')
    const read = image !== undefined ? await readQrPng(image) : ctx.positionals[0]
    // A `pair --web` link (http://…/#DISPATCH1:…) carries the invite in its fragment.
    const hash = read.indexOf('#')
    const text = /^https?:\/\//i.test(read.trim()) && hash >= 0 ? decodeURIComponent(read.slice(hash + 1)) : read
    // Refuse a bad, secretless or bare-multiaddr invite before touching the home.
    const { decodeInvite } = await import('../../../core/index.ts')
    decodeInvite(text)
    const result = await withApp(ctx.home, { open: { role: 'phone', name: ctx.values.name as string | undefined, dialMembers: false, report: line => ctx.note(`dispatch: ${line}`) } },
      async api => await api.join({ invite: text }, { signal: ctx.signal, confirm: confirmOnTerminal(ctx) }))
    if (ctx.json) ctx.printJson({ event: 'paired', peerId: result.peerId, name: result.name })
    else ctx.print(`paired with "${result.name}" (${result.peerId})`)
  }
}
