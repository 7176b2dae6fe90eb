// The default name of a browser device: what it is, in words a person recognises ("Chrome on
// Android"), plus the end of its peer id, so two phones of one user still differ and
// `dispatch revoke <name>` names exactly one of them. The user can change it on the page.

import Bowser from 'bowser'

/** "<Browser> on <OS> <last 4 of the peer id>", e.g. "Chrome on Android 3f9a". */
export function browserDeviceName (userAgent: string, peerId: string): string {
  // Bowser refuses an empty user agent (some privacy settings send none).
  const parsed = Bowser.parse(userAgent === '' ? 'unknown' : userAgent)
  const browser = parsed.browser.name || 'Browser'
  const os = parsed.os.name
  return `${browser}${os !== undefined && os !== '' ? ` on ${os}` : ''} ${peerId.slice(-4)}`
}
