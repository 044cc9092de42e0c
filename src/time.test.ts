import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTime, rfc3339, ZERO_TIME } from './time.ts';

test('isoTime keeps milliseconds, in UTC', () => {
  assert.equal(isoTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05.678Z');
  assert.equal(isoTime(0), '1970-01-01T00:00:00.000Z');
});

test('rfc3339 drops the fraction (truncating, never rounding up) and renders null as Go zero time', () => {
  assert.equal(rfc3339(Date.UTC(2024, 0, 2, 3, 4, 5, 999)), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02T03:04:05Z');
  assert.equal(rfc3339(null), '0001-01-01T00:00:00Z');
});

test('ZERO_TIME is Go zero time in the millisecond form and parses to year 1', () => {
  assert.equal(ZERO_TIME, '0001-01-01T00:00:00.000Z');
  assert.equal(new Date(ZERO_TIME).getUTCFullYear(), 1);
  assert.equal(rfc3339(Date.parse(ZERO_TIME)), '0001-01-01T00:00:00Z');
});
