// `dispatch revoke DEVICE`: cut a device off at once (its connections close, the gate
// refuses it) and mark it revoked in the space so every member refuses it too.

import { withApp } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const revoke: Verb = {
  name: 'revoke',
  usage: 'DEVICE [--with-admitted]',
  summary: 'revoke a paired device (by name or peer id prefix); --with-admitted also revokes every device it admitted',
  positionals: { min: 1, max: 1 },
  options: {
    'with-admitted': { type: 'boolean' }
  },
  async run (ctx) {
    const withAdmitted = ctx.values['with-admitted'] === true
    const result = await withApp(ctx.home, { open: { listen: [], dialMembers: false } }, async api => await api.revoke({ device: ctx.positionals[0], ...(withAdmitted ? { withAdmitted } : {}) }, { signal: ctx.signal }))
    if (ctx.json) ctx.printJson(result)
    else {
      ctx.print(`revoked "${result.name}" (${result.peerId})`)
      for (const d of result.alsoRevoked) ctx.print(`revoked "${d.name}" (${d.peerId}), admitted by "${result.name}"`)
    }
  }
}
