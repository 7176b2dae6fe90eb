// A browser's default device name: what a person recognises, plus the end of its peer id.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { browserDeviceName } from './device-name.ts'

const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'

test('browser and system from the user agent, then the end of the peer id', () => {
  assert.is(browserDeviceName('Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', PEER), `Chrome on Android ${PEER.slice(-4)}`)
  assert.is(browserDeviceName('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', PEER), `Safari on iOS ${PEER.slice(-4)}`)
})

test('no user agent: still a name, still distinct per device', () => {
  assert.is(browserDeviceName('', PEER), `Browser ${PEER.slice(-4)}`)
  assert.is.not(browserDeviceName('', PEER), browserDeviceName('', PEER.slice(0, -4) + 'abcd'))
})

test.run()
