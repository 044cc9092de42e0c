import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requestId, textLine } from './logger.ts';

test('log.format=text renders a pino record as one readable line', () => {
  const line = textLine(JSON.stringify({ level: 40, time: Date.UTC(2026, 0, 2, 3, 4, 5), pid: 1, hostname: 'h', req_id: 'abc', msg: 'request', status: 401, path: '/v2/' }) + '\n');
  assert.equal(line, '2026-01-02T03:04:05.000Z WARN [abc] request status=401 path=/v2/\n');
  assert.equal(textLine('not json'), 'not json\n');
});

test('an incoming request id is kept only if it is a sane token', () => {
  assert.equal(requestId('req-1.a:b_C'), 'req-1.a:b_C');
  assert.equal(requestId('x'.repeat(128)), 'x'.repeat(128));
  for (const bad of ['x'.repeat(129), 'a b', 'a\nb', '', undefined, ['a', 'b']]) assert.match(requestId(bad), /^[0-9a-f-]{36}$/);
});
