// A libp2p transport wrapper for TCP and WebSockets: its connections write each send as one
// socket write (joined-writes.ts) and propose Noise without waiting for the answer
// (optimistic-encryption.ts). Both change only timing; the bytes on the wire are stock libp2p's.

import type { MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'
import { joinWrites } from './joined-writes.ts'
import { optimisticEncryption } from './optimistic-encryption.ts'

/** The transport made by `factory`, with its connections tuned as above. */
export function tunedTransport<C> (factory: (components: C) => Transport): (components: C) => Transport {
  return (components) => {
    const transport = factory(components)
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (ma, options) => await dial(ma, { ...options, upgrader: tunedUpgrader(options.upgrader) })
    transport.createListener = (options) => createListener({ ...options, upgrader: tunedUpgrader(options.upgrader) })
    return transport
  }
}

function tunedUpgrader (upgrader: Upgrader): Upgrader {
  return new Proxy(upgrader, {
    get (target, prop) {
      if (prop === 'upgradeOutbound') {
        // Called with the optimistic upgrader as `this`, so its own steps pick up our encryption step.
        const outbound = optimisticEncryption(target)
        return async (maConn: MultiaddrConnection, opts: never) => await Reflect.apply(target.upgradeOutbound, outbound, [joinWrites(maConn), opts])
      }
      if (prop === 'upgradeInbound') {
        return async (maConn: MultiaddrConnection, opts: never) => await target.upgradeInbound(joinWrites(maConn), opts)
      }
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}
