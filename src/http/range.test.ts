import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../errors.ts';
import { parseContentRange, parseRangeHeader } from './range.ts';

const is416 = (size: number) => (e: unknown) =>
  e instanceof RegistryError && e.code === 'RANGE_INVALID' && e.status === 416 && e.headers['Content-Range'] === `bytes */${size}`;

test('Range: absent or not a bytes range means the whole blob', () => {
  for (const h of [undefined, '', 'items=0-1', 'bytes', 'none', 'bytes 0-1']) assert.equal(parseRangeHeader(h, 100), null, String(h));
});

test('Range: single ranges, open ends, suffixes and clamping', () => {
  const cases: [string, number, [number, number][]][] = [
    ['bytes=0-0', 100, [[0, 0]]],
    ['bytes=0-99', 100, [[0, 99]]],
    ['bytes=10-19', 100, [[10, 19]]],
    ['bytes=10-', 100, [[10, 99]]],
    ['bytes=99-', 100, [[99, 99]]],
    ['bytes=0-1000', 100, [[0, 99]]], // last-pos past the end is clamped
    ['bytes=50-99999999999999999999', 100, [[50, 99]]],
    ['bytes=-10', 100, [[90, 99]]], // suffix
    ['bytes=-100', 100, [[0, 99]]],
    ['bytes=-1000', 100, [[0, 99]]], // suffix longer than the blob: the whole blob
    ['bytes=-1', 1, [[0, 0]]],
    ['Bytes = 5-6', 100, [[5, 6]]],
    [' bytes=5-6 ', 100, [[5, 6]]],
  ];
  for (const [h, size, want] of cases)
    assert.deepEqual(
      parseRangeHeader(h, size),
      want.map(([start, end]) => ({ start, end })),
      h,
    );
});

test('Range: several ranges in one header', () => {
  assert.deepEqual(parseRangeHeader('bytes=0-1, 5-6,-2', 10), [
    { start: 0, end: 1 },
    { start: 5, end: 6 },
    { start: 8, end: 9 },
  ]);
  // Unsatisfiable members are dropped; the set is satisfiable when one member is (RFC 9110 §14.1.1).
  assert.deepEqual(parseRangeHeader('bytes=0-1,200-300', 10), [{ start: 0, end: 1 }]);
  assert.deepEqual(parseRangeHeader('bytes=200-300,-0,8-', 10), [{ start: 8, end: 9 }]);
});

test('Range: unsatisfiable or malformed ranges are 416 with Content-Range bytes */size', () => {
  const cases: [string, number][] = [
    ['bytes=100-', 100],
    ['bytes=100-200', 100],
    ['bytes=1000-2000', 100],
    ['bytes=-0', 100],
    ['bytes=0-', 0], // nothing is satisfiable on an empty blob
    ['bytes=-5', 0],
    ['bytes=200-300,400-500', 100],
    ['bytes=5-4', 100], // last < first: invalid
    ['bytes=-', 100],
    ['bytes=a-b', 100],
    ['bytes=1-2-3', 100],
    ['bytes=0x10-20', 100],
    ['bytes=1.5-2', 100],
    ['bytes=,', 100],
    ['bytes=' + Array.from({ length: 65 }, (_, i) => `${i}-${i}`).join(','), 1000], // too many ranges
  ];
  for (const [h, size] of cases) assert.throws(() => parseRangeHeader(h, size), is416(size), h);
});

test('Content-Range of a chunk upload: <start>-<end>, optionally with bytes and /total', () => {
  assert.equal(parseContentRange(undefined), null);
  const ok: [string, number, number][] = [
    ['0-99', 0, 99],
    ['100-199', 100, 199],
    ['5-5', 5, 5],
    ['bytes 0-9/10', 0, 9],
    ['bytes=0-9', 0, 9],
    ['bytes 10-19/*', 10, 19],
    ['0-9/100', 0, 9],
    ['  3-4  ', 3, 4],
  ];
  for (const [h, start, end] of ok) assert.deepEqual(parseContentRange(h), { start, end }, h);
  const bad = ['', '-', '5-', '-5', '9-0', 'a-b', 'bytes */10', 'bytes 0-9/x', '0-9,10-19', '0--1', '99999999999999999999-999999999999999999999'];
  for (const h of bad) assert.throws(() => parseContentRange(h), (e) => e instanceof RegistryError && e.code === 'RANGE_INVALID' && e.status === 416, h);
});
