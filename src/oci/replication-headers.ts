// Berth-to-Berth replication side channel on /v2 manifest PUTs (docs/architecture.md, "Anti-entropy"). Harbor and
// Distribution ignore unknown request headers, so sending them to any peer is harmless.

/** The source's push time of the tags being put (ms since the epoch): the destination records it as theirs. */
export const PUSH_TIME_HEADER = 'x-berth-push-time';
/** The instance id of the Berth the artifact was first pushed to: what arrived from there is not sent back. */
export const ORIGIN_HEADER = 'x-berth-replication-origin';
