// Native code some transports load (node-datachannel, for WebRTC-direct) and its orderly end.
// Kept apart from libp2p.ts so a process can release it without loading libp2p.

let nativeWebRTCLoaded = false

/** Called by the node factory when it loads the WebRTC-direct transport. */
export function markNativeWebRTCLoaded (): void {
  nativeWebRTCLoaded = true
}

/**
 * Ends node-datachannel's native threads. Call it once every node of the process has stopped,
 * just before the process exits: threads still running while Node tears down abort the process
 * (`tpp.c: __pthread_tpp_change_priority: Assertion … failed`). A no-op when WebRTC was never loaded.
 */
export async function releaseNativeTransports (): Promise<void> {
  if (!nativeWebRTCLoaded) return
  nativeWebRTCLoaded = false
  const { cleanup } = await import('node-datachannel')
  cleanup()
}
