// Time formats on the wire, defined once: Harbor's Go encoder writes time.Time as RFC 3339, and its zero value
// ("never") as year 1. Berth's JSON times carry milliseconds (Date.toISOString); the webhook payloads and records that
// Harbor writes at seconds precision use rfc3339.

/** Go's zero time in Berth's millisecond ISO form, which Harbor shows for "never". */
export const ZERO_TIME = '0001-01-01T00:00:00.000Z';

/** Epoch milliseconds as ISO 8601 / RFC 3339 with milliseconds (UTC). */
export const isoTime = (ms: number): string => new Date(ms).toISOString();

/** Epoch milliseconds as seconds-precision RFC 3339 (UTC, fraction dropped); null is Go's zero time. */
export const rfc3339 = (ms: number | null): string => (ms === null ? '0001-01-01T00:00:00Z' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
