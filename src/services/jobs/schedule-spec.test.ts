import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidScheduleError, cronForHarborSchedule, harborScheduleType, nextOccurrence, validateSchedule } from './schedule-spec.ts';

const t = (iso: string) => Date.parse(iso);

test('cron: 5 and 6 fields in UTC, nicknames, strictly after the given time', () => {
  assert.equal(nextOccurrence('0 0 * * *', t('2026-01-01T10:00:00Z')), t('2026-01-02T00:00:00Z'));
  assert.equal(nextOccurrence('0 0 0 * * *', t('2026-01-01T00:00:00Z')), t('2026-01-02T00:00:00Z'));
  assert.equal(nextOccurrence('*/15 * * * *', t('2026-01-01T10:07:30Z')), t('2026-01-01T10:15:00Z'));
  assert.equal(nextOccurrence('0 0 0 * * 0', t('2026-01-01T00:00:00Z')), t('2026-01-04T00:00:00Z')); // a Sunday
  assert.equal(nextOccurrence('@hourly', t('2026-01-01T10:59:59Z')), t('2026-01-01T11:00:00Z'));
  assert.equal(nextOccurrence('* * * * * *', t('2026-01-01T10:00:00.400Z')), t('2026-01-01T10:00:01Z'));
});

test('@every intervals', () => {
  assert.equal(nextOccurrence('@every 3600s', 1000), 1000 + 3_600_000);
  assert.equal(nextOccurrence('@every 250ms', 1000), 1250);
  assert.equal(nextOccurrence('@every 2m', 0), 120_000);
  assert.equal(nextOccurrence('@every 1h', 0), 3_600_000);
  assert.throws(() => validateSchedule('@every 0s'), InvalidScheduleError);
  assert.throws(() => validateSchedule('@every 5 days'), InvalidScheduleError);
});

test('invalid expressions are refused with InvalidScheduleError', () => {
  for (const bad of ['', 'x', '* * *', '60 * * * *', '* 24 * * *', '* * 32 * *', '1 2 3 4 5 6 7 8'])
    assert.throws(() => validateSchedule(bad), InvalidScheduleError, bad);
});

test('Harbor schedule types map to the cron Harbor stores, and back', () => {
  assert.equal(cronForHarborSchedule('Hourly'), '0 0 * * * *');
  assert.equal(cronForHarborSchedule('Daily'), '0 0 0 * * *');
  assert.equal(cronForHarborSchedule('Weekly'), '0 0 0 * * 0');
  assert.equal(cronForHarborSchedule('Custom', '0 30 2 * * *'), '0 30 2 * * *');
  assert.equal(cronForHarborSchedule('None'), null);
  assert.equal(cronForHarborSchedule('Manual'), null);
  assert.throws(() => cronForHarborSchedule('Custom'), InvalidScheduleError);
  assert.throws(() => cronForHarborSchedule('Custom', 'nope'), InvalidScheduleError);
  assert.throws(() => cronForHarborSchedule('Yearly' as 'Daily'), InvalidScheduleError);
  assert.equal(harborScheduleType('0 0 0 * * *'), 'Daily');
  assert.equal(harborScheduleType('0 0 * * * *'), 'Hourly');
  assert.equal(harborScheduleType('0 0 0 * * 0'), 'Weekly');
  assert.equal(harborScheduleType('0 30 2 * * *'), 'Custom');
  assert.equal(harborScheduleType(null), 'None');
});
