// `dispatch devices`: the devices paired into this home's space, with online state and what
// each desktop is running; `--default NAME` picks the desktop `add` sends to without --to.

import { callDevice } from '../../device/reach.ts'
import type { Verb } from '../verb.ts'

export const devices: Verb = {
  name: 'devices',
  usage: '[--default DEVICE]',
  summary: 'list paired devices, online or not and what they run; --default picks where tasks go',
  options: {
    default: { type: 'string' }
  },
  async run (ctx) {
    const reach = { open: { listen: [], connect: false }, signal: ctx.signal }
    if (typeof ctx.values.default === 'string') {
      const chosen = await callDevice(ctx.home, 'setDefault', { device: ctx.values.default }, reach)
      if (ctx.json) ctx.printJson(chosen)
      else ctx.print(`tasks now go to "${chosen.name}" unless --to says otherwise`)
      return
    }
    const list = await callDevice(ctx.home, 'devices', {}, reach) as any[]
    const byDefault = await callDevice(ctx.home, 'defaultDesktop', {}, reach).catch(() => null) as { peerId: string } | null
    for (const d of list) d.default = d.peerId === byDefault?.peerId
    if (ctx.json) { ctx.printJson(list); return }
    if (list.length === 0) { ctx.print('no paired devices yet (dispatch pair / dispatch join)'); return }
    for (const d of list) {
      const state = d.revoked === true ? 'revoked' : d.online === true ? 'online' : 'offline'
      const running = Array.isArray(d.running) && d.running.length > 0 ? `  running: ${d.running.map((r: any) => String(r.text).split('\n')[0].slice(0, 40)).join('; ')}` : ''
      ctx.print(`${d.default === true ? '*' : ' '} ${String(d.name).padEnd(20)} ${String(d.role).padEnd(8)} ${state.padEnd(8)} ${d.peerId}${running}`)
    }
  }
}
