// Protocol ids, frame limits and timeouts of the sync engine, in one place.

/**
 * The long-lived replication stream: one per connected peer pair and space. 1.1.0 adds sync
 * messages carrying Yjs v2 diffs (session.ts); everything else is as in 1.0.0.
 */
export const SYNC_PROTOCOL = '/dispatch/sync/1.1.0'
/** The first revision (Yjs v1 only), still spoken with peers that know nothing newer. */
export const SYNC_PROTOCOL_1_0 = '/dispatch/sync/1.0.0'
/** Every revision a node speaks by default, newest (preferred) first. */
export const SYNC_PROTOCOLS: readonly string[] = [SYNC_PROTOCOL, SYNC_PROTOCOL_1_0]
/** Pairing: the only protocol an unpaired peer may open, and only while an invite is open. */
export const PAIR_PROTOCOL = '/dispatch/pair/1.0.0'

/**
 * Blobs (attachments, large outputs): bytes requested by sha256, in chunks, from a member only
 * (the same gate as sync). One request in flight per stream, so the reader paces the writer.
 */
export const BLOB_PROTOCOL = '/dispatch/blob/1.0.0'
/** Bytes per chunk of a blob transfer (one frame each). */
export const BLOB_CHUNK_BYTES = 256 * 1024
/** Time allowed for each answer on a blob stream (a stat, one chunk). */
export const BLOB_STEP_TIMEOUT_MS = 15_000

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
/**
 * ...or once it holds this many updates and at least 1/16 of the last snapshot's bytes: a cold
 * load replays the log one update at a time (~50-100 µs each), so a year of small writes (a
 * heartbeat, a status) must not pile up to 8 MiB of them; the ratio keeps a large space from
 * re-encoding itself every thousand writes.
 */
export const COMPACT_LOG_RECORDS = 1000
export const COMPACT_LOG_SNAPSHOT_FRACTION = 16
/**
 * A log found long is compacted this long after, not inside the update that made it long:
 * encoding the snapshot blocks the thread (~10 ms for 1,000 tasks), and inside that update it
 * delayed whatever else the turn held (the rest of a sync: an ack). A sync's burst of updates
 * also ends first. y-indexeddb waits 1 s before trimming as well.
 */
export const COMPACT_DELAY_MS = 1_000
/**
 * A space closed with at least this many updates in its log compacts it first, so the next start
 * loads one snapshot instead of replaying them (a year's heavy use: 815 updates, ~60 ms of a cold
 * load). Fewer replay in under ~7 ms, less than rewriting the snapshot at every stop would cost.
 */
export const COMPACT_ON_CLOSE_RECORDS = 100

/** While writes to the store fail (a full disk), the unsaved updates are tried again this often. */
export const STORAGE_RETRY_MS = 2_000

/** Largest frame on a pairing stream: its messages are a few hundred bytes of JSON. */
export const PAIR_MAX_FRAME_BYTES = 4 * 1024
/** Time allowed for each protocol step of pairing (dial, claim, answer). */
export const PAIR_STEP_TIMEOUT_MS = 10_000
/** Time each person has to compare the verification code and confirm. */
export const PAIR_CONFIRM_TIMEOUT_MS = 120_000
/**
 * After an invite expires or is spent, strangers are still admitted for this long, so a
 * second use or a late phone gets a clear refusal instead of a dropped connection.
 */
export const PAIR_REFUSAL_GRACE_MS = 60_000
/** Failed pairing attempts allowed per peer, and from everyone together, per window. */
export const PAIR_FAILURES_PER_PEER = 5
export const PAIR_FAILURES_TOTAL = 20
export const PAIR_FAILURE_WINDOW_S = 60

/**
 * A dial tries a peer's addresses one after another (direct first, relayed last), each for at
 * most ADDRESS_DIAL_TIMEOUT_MS, all of them within DIAL_TIMEOUT_MS: long enough to get past a
 * desktop's LAN addresses, unreachable from a phone away from home, to its relayed ones
 * (libp2p's own 10 s in all, 6 s each, ran out after the second unreachable address).
 */
export const DIAL_TIMEOUT_MS = 30_000
export const ADDRESS_DIAL_TIMEOUT_MS = 5_000
/**
 * A member with relayed addresses gets this long on its direct ones before the relayed ones are
 * dialled: a device back on new ports leaves the old ones dead (5 s each for WebRTC-direct), and
 * the relayed address stays valid; once connected through the relay, its new direct addresses
 * arrive (identify, its published ones) and the node moves to them in the background.
 */
export const RELAY_FALLBACK_MS = 3_000

/**
 * A member's direct connection is identified (libp2p identify: its listen addresses and
 * protocols) once the first sync over it has completed, or after this long if none does.
 */
export const IDENTIFY_DEFER_MS = 2_000

/** A relay node keeps at most this many reservations (devices listening through it). */
export const RELAY_MAX_RESERVATIONS = 128
/** How long a relay reservation lasts before the device refreshes it (libp2p refreshes it itself). */
export const RELAY_RESERVATION_TTL_MS = 60 * 60_000
/**
 * Per relayed connection: how long it may stay open and how many bytes it may carry before
 * the relay cuts it. Peers then reconnect and sync resumes from their state vectors.
 */
export const RELAY_DURATION_LIMIT_MS = 30 * 60_000
export const RELAY_DATA_LIMIT_BYTES = 64 * 1024 * 1024
/** How often a device checks that it still holds its relay reservations. */
export const RELAY_SLOT_CHECK_MS = 5_000
/** Period of mDNS queries on the LAN. */
export const MDNS_INTERVAL_MS = 10_000
/**
 * A sync reply larger than this is sent as several updates that each apply on their own,
 * so a relay cutting the connection mid-way still leaves progress behind.
 */
export const SYNC_PIECE_BYTES = 256 * 1024
