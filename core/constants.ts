// Protocol ids, frame limits and timeouts of the sync engine, in one place.

/** The long-lived replication stream: one per connected peer pair and space. */
export const SYNC_PROTOCOL = '/dispatch/sync/1.0.0'
/** Pairing: the only protocol an unpaired peer may open, and only while an invite is open. */
export const PAIR_PROTOCOL = '/dispatch/pair/1.0.0'

/** Largest frame accepted on any stream; checked on the length prefix, before allocating. */
export const MAX_FRAME_BYTES = 1024 * 1024
/** Largest message reassembled from several frames (a big sync step 2). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024
/** Largest space name carried in the first frame of a sync stream. */
export const MAX_SPACE_NAME_BYTES = 128

/** Time allowed for a sync stream's hello (the frame naming the space). */
export const HELLO_TIMEOUT_MS = 5_000
/**
 * While connected, each side re-sends sync step 1 (its state vector, a few bytes)
 * this often so that any gap left by a lost frame heals without outside help.
 */
export const RESYNC_INTERVAL_MS = 10_000
/** After an update Yjs cannot apply yet (missing dependencies), ask again this soon. */
export const PENDING_RESYNC_DELAY_MS = 50

/** Reconnection to a known peer: exponential backoff with full jitter between these bounds. */
export const RECONNECT_MIN_MS = 250
export const RECONNECT_MAX_MS = 30_000

/** Default TCP port a desktop listens on, so paired devices find it again after a restart. */
export const DEFAULT_TCP_PORT = 4317
/** Default WebSockets port, next to it. */
export const DEFAULT_WS_PORT = 4318

/** The store compacts a space's log into a snapshot once the log grows past this. */
export const COMPACT_LOG_BYTES = 8 * 1024 * 1024
