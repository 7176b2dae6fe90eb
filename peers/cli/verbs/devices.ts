// `dispatch devices`: the devices paired into this home's space, with online state and what
// each desktop is running; `--default NAME` picks the desktop `add` sends to without --to.

import { withApp } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const devices: Verb = {
  name: 'devices',
  usage: '[--default DEVICE]',
  summary: 'list paired devices: online or not, who admitted each, warnings, what they run; --default picks where tasks go',
  options: {
    default: { type: 'string' }
  },
  async run (ctx) {
    const open = { open: { listen: [], dialMembers: false } }
    const chosen = ctx.values.default
    if (typeof chosen === 'string') {
      const picked = await withApp(ctx.home, open, async api => await api.setDefault({ device: chosen }, { signal: ctx.signal }))
      if (ctx.json) ctx.printJson(picked)
      else ctx.print(`tasks now go to "${picked.name}" unless --to says otherwise`)
      return
    }
    const list = await withApp(ctx.home, { ...open, readOnly: true }, async api => await api.devices({}, { signal: ctx.signal }))
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) { ctx.print('no paired devices yet (dispatch pair / dispatch join)'); return }
    for (const d of list) {
      const state = d.revoked ? 'revoked' : d.online ? 'online' : 'offline'
      const running = d.running !== undefined && d.running.length > 0 ? `  running: ${d.running.map(r => r.text.split('\n')[0].slice(0, 40)).join('; ')}` : ''
      const admitted = d.verified === false && !d.revoked ? '  not admitted here' : d.pairedByName !== '' ? `  admitted by ${d.pairedByName}` : ''
      const warnings = d.warnings > 0 ? `  ${d.warnings} warning${d.warnings === 1 ? '' : 's'}` : ''
      ctx.print(`${d.default ? '*' : ' '} ${d.name.padEnd(20)} ${d.role.padEnd(8)} ${state.padEnd(8)} ${d.peerId}${admitted}${warnings}${running}`)
    }
  }
}
