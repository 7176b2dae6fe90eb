// `dispatch pair`: open an invite on this desktop, show it (text + QR, PNG on request),
// confirm the phone that uses it. Through the running desktop when there is one.
// With --web the QR is a link to the web app the desktop serves (`dispatch desktop --web`),
// the invite in its fragment: browsers never send a fragment to the server. --app-url URL points
// the link at the phone app hosted elsewhere (any HTTPS static host) and is kept in config.json.

import { withApp } from '../../device/reach.ts'
import type { DeviceRef, PairEvent } from '../../app/api.ts'
import { renderQrTerminal, writeQrPng } from '../qr.ts'
import { UsageError } from '../verb.ts'
import type { Verb } from '../verb.ts'
import { confirmOnTerminal } from '../confirm-pairing.ts'
import { ConfigFile } from '../../device/config.ts'
import { homeLayout } from '../../home/layout.ts'

/** `--app-url`: where the phone web app is hosted (http or https, no fragment); UsageError otherwise. */
export function parseAppUrl (text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError(`--app-url takes the address of the hosted web app, such as https://example.com/dispatch/ (got "${text}")`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--app-url takes an https:// address (got "${text}")`)
  url.hash = ''
  return url.toString()
}

export const pair: Verb = {
  name: 'pair',
  usage: '[--web [--app-url URL]] [--ttl SECONDS] [--png FILE] [--yes] [--listen MULTIADDR]...',
  summary: 'show an invite (QR) for a phone to join, and confirm it',
  options: {
    ttl: { type: 'string' },
    png: { type: 'string' },
    yes: { type: 'boolean' },
    web: { type: 'boolean' },
    'app-url': { type: 'string' },
    listen: { type: 'string', multiple: true }
  },
  async run (ctx) {
    const ttl = ctx.values.ttl === undefined ? 300 : Number(ctx.values.ttl)
    if (!Number.isFinite(ttl) || ttl <= 0) throw new UsageError('--ttl takes a positive number of seconds')
    const png = ctx.values.png as string | undefined
    const appUrlFlag = ctx.values['app-url'] === undefined ? undefined : parseAppUrl(String(ctx.values['app-url']))
    const web = ctx.values.web === true || appUrlFlag !== undefined
    // Kept for later pairs: `dispatch pair --web` then links to the hosted app too.
    const config = new ConfigFile(homeLayout(ctx.home).config)
    if (appUrlFlag !== undefined) await config.change(c => { c.appUrl = appUrlFlag })
    const saved = (await config.config()).appUrl
    const appUrl = appUrlFlag ?? (web && typeof saved === 'string' ? saved : undefined)
    let shown: Promise<void> = Promise.resolve()
    // --web with no desktop serving the app: give up the invite at once, say why.
    const abort = new AbortController()
    const onAbort = (): void => { abort.abort() }
    ctx.signal.addEventListener('abort', onAbort, { once: true })
    let noWeb = false
    const onEvent = (event: PairEvent): void => {
      if (web && appUrl === undefined && event.webUrls.length === 0) { noWeb = true; abort.abort(); return }
      shown = show(event.invite, event.expiresAt, web ? `${appUrl ?? event.webUrls[0]}#${event.invite}` : undefined)
    }
    let result: DeviceRef
    try {
      result = await withApp(ctx.home, { open: { role: 'desktop', listen: ctx.values.listen as string[] | undefined }, serve: true },
        async api => await api.pair({ ttlMs: Math.round(ttl * 1000) }, { signal: abort.signal, onEvent, confirm: confirmOnTerminal(ctx) }))
    } catch (err) {
      if (noWeb) throw new UsageError('pair --web needs a desktop serving the web app (dispatch desktop --web) or the address of the hosted app (--app-url URL)')
      throw err
    } finally {
      ctx.signal.removeEventListener('abort', onAbort)
    }
    await shown
    if (ctx.json) ctx.printJson({ event: 'paired', peerId: result.peerId, name: result.name })
    else ctx.print(`paired with "${result.name}" (${result.peerId})`)

    async function show (invite: string, expiresAt: string, link?: string): Promise<void> {
      const qr = link ?? invite
      if (png !== undefined) await writeQrPng(png, qr)
      if (ctx.json) { ctx.printJson({ event: 'invite', invite, expiresAt, ...(link !== undefined ? { link } : {}) }); return }
      ctx.print(await renderQrTerminal(qr))
      ctx.print(qr)
      const how = link !== undefined ? 'open it on the phone (camera app: scan the QR)' : 'scan or paste it with: dispatch join INVITE'
      ctx.print(`${how}   (valid until ${expiresAt}${png !== undefined ? `; QR written to ${png}` : ''})`)
    }
  }
}
