// The one multiaddr module: whose an address is, relayed or not, through which relay, in which order.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { multiaddr } from '@multiformats/multiaddr'
import { directFirst, isBrowserDialable, isLoopbackAddr, isRelayedAddr, peerIdOf, relayIdOf, transportOf, withPeerId } from './multiaddrs.ts'

const DESK = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const RELAY = '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp'
const direct = `/ip4/192.168.1.5/tcp/4317/p2p/${DESK}`
const relayed = `/ip4/203.0.113.7/tcp/4319/p2p/${RELAY}/p2p-circuit/p2p/${DESK}`

test('peer id, relay id and relayed-ness come from the components', () => {
  assert.is(peerIdOf(direct), DESK)
  assert.is(peerIdOf(relayed), DESK, 'a relayed address names its destination')
  assert.is(peerIdOf('/ip4/127.0.0.1/tcp/1'), undefined)
  assert.is(peerIdOf(multiaddr(direct)), DESK)
  assert.not.ok(isRelayedAddr(direct))
  assert.ok(isRelayedAddr(relayed))
  assert.is(relayIdOf(relayed), RELAY)
  assert.is(relayIdOf(direct), undefined)
  // A substring test would take a DNS name containing "p2p-circuit" for a relay; components do not.
  assert.not.ok(isRelayedAddr(`/dns4/p2p-circuit.example/tcp/1/p2p/${DESK}`))
})

test('withPeerId adds /p2p/<id> once; directFirst orders and dedupes', () => {
  assert.is(withPeerId('/ip4/10.0.0.1/tcp/1', DESK), `/ip4/10.0.0.1/tcp/1/p2p/${DESK}`)
  assert.is(withPeerId(direct, DESK), direct)
  assert.equal(directFirst([relayed, direct, relayed, direct]), [direct, relayed])
})

test('loopback and what a browser can dial', () => {
  assert.ok(isLoopbackAddr('/ip4/127.0.0.1/tcp/1'))
  assert.ok(isLoopbackAddr('/ip6/::1/tcp/1'))
  assert.not.ok(isLoopbackAddr(direct))
  assert.ok(isBrowserDialable('/ip4/10.0.0.1/tcp/4318/ws'))
  assert.ok(isBrowserDialable('/ip4/10.0.0.1/udp/4320/webrtc-direct'))
  assert.ok(isBrowserDialable(`/ip4/203.0.113.7/tcp/4319/ws/p2p/${RELAY}/p2p-circuit/p2p/${DESK}`))
  assert.not.ok(isBrowserDialable(direct))
})

test('transportOf names the transport, not the host or the certificate', () => {
  assert.is(transportOf(direct), 'tcp')
  assert.is(transportOf(relayed), 'tcp', 'a relayed address: the transport to the relay')
  assert.is(transportOf('/ip4/10.0.0.1/udp/4319/webrtc-direct/certhash/uEiDFE951uSTt5GqTTDdmaSVlQKscgNq7sBKU-UI8Knzzbw'), 'udp/webrtc-direct')
  assert.is(transportOf(`/dns/relay.example/tcp/4322/tls/ws/p2p/${RELAY}`), 'tcp/tls/ws')
})

test.run()
