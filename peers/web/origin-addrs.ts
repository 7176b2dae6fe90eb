// A page served by a desktop (`dispatch desktop --web`) asks the origin that served it where that
// desktop listens now. A desktop restarted with new ports and no relay is otherwise out of reach:
// every address the page knows is dead, and the new ones are published only inside the space it
// cannot sync. The answer is the desktop's own signed record (peers/app/published-addrs.ts), so
// the origin is not trusted: only a paired desktop's signature over its own /p2p/ addresses counts.
// An app on a static host answers 404 and is never asked again.

import type { Phone } from './phone.ts'

/** Where the page asks, relative to the app's own URL (the desktop's web server answers it). */
export const ADDRS_PATH = 'dispatch-addrs.json'
/** How often a page with an unreachable paired desktop asks its origin (a GET on the same host). */
export const ORIGIN_ADDRS_INTERVAL_MS = 2_000

/** Ask the page's origin for its desktop's addresses whenever a paired desktop is unreachable; returns a stop function. */
export function askOriginForAddrs (phone: Phone, url = new URL(ADDRS_PATH, location.href)): () => void {
  let stopped = false
  let asking = false
  const ask = async (): Promise<void> => {
    if (stopped || asking || !phone.missesADesktop()) return
    asking = true
    try {
      const res = await fetch(url, { cache: 'no-store' })
      // A static host (no desktop behind it): nothing to learn here, ever.
      if (res.status === 404) { stop(); return }
      if (!res.ok) return
      phone.learnSignedAddrs(await res.json())
    } catch {
      // The desktop (and so its web server) is down: ask again on the next tick.
    } finally {
      asking = false
    }
  }
  const timer = setInterval(() => { void ask() }, ORIGIN_ADDRS_INTERVAL_MS)
  const online = (): void => { void ask() }
  addEventListener('online', online)
  void ask()
  const stop = (): void => {
    stopped = true
    clearInterval(timer)
    removeEventListener('online', online)
  }
  return stop
}
