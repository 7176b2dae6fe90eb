// Stands in for @libp2p/mdns in the browser bundle: browsers cannot send multicast DNS
// (it needs node:dgram), and the page never asks for discovery, so this is never called.

export function mdns (): never {
  throw new Error('mDNS is not available in browsers')
}
