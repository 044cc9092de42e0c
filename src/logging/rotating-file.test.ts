import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingFile } from './rotating-file.ts';

test('rotates into at most count+1 files of bounded size, no line lost or split under concurrent writers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rot-'));
  try {
    const path = join(dir, 'berth.log');
    const max = 4096, count = 3;
    const f = new RotatingFile(path, max, count);
    // 20 async writers interleaving their lines: the last files must hold whole lines only, in each writer's order.
    const writers = Array.from({ length: 20 }, async (_, w) => {
      for (let i = 0; i < 100; i++) {
        f.write(JSON.stringify({ w, i, pad: 'x'.repeat((w * 7 + i) % 90) }) + '\n');
        if (i % 3 === 0) await new Promise((r) => setImmediate(r));
      }
    });
    await Promise.all(writers);
    f.close();
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ['berth.log', 'berth.log.1', 'berth.log.2', 'berth.log.3']);
    for (const name of files) assert.ok(statSync(join(dir, name)).size <= max, `${name} exceeds ${max}`);
    // Oldest first: .3, .2, .1, then the current file.
    const text = ['berth.log.3', 'berth.log.2', 'berth.log.1', 'berth.log'].map((n) => readFileSync(join(dir, n), 'utf8')).join('');
    assert.ok(text.endsWith('\n'));
    const lines = text.slice(0, -1).split('\n').map((l) => JSON.parse(l) as { w: number; i: number });
    // The kept files are a contiguous tail of what was written: per writer, consecutive numbers ending at 99.
    const last = new Map<number, number>();
    for (const { w, i } of lines) {
      const prev = last.get(w);
      if (prev !== undefined) assert.equal(i, prev + 1, `writer ${w}: line ${prev + 1} lost`);
      last.set(w, i);
    }
    for (const [w, i] of last) assert.equal(i, 99, `writer ${w} ends at ${i}`);
    assert.ok(lines.length > 50);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('appends to an existing file; a line longer than the limit gets a file of its own; count 0 keeps one file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rot-'));
  try {
    const path = join(dir, 'a', 'b', 'berth.log');
    let f = new RotatingFile(path, 1024, 0);
    f.write('first\n');
    f.close();
    f = new RotatingFile(path, 1024, 0);
    f.write('second\n');
    assert.equal(readFileSync(path, 'utf8'), 'first\nsecond\n');
    const long = 'y'.repeat(2000) + '\n';
    f.write(long);
    assert.equal(readFileSync(path, 'utf8'), long);
    f.write('after\n');
    f.close();
    assert.equal(readFileSync(path, 'utf8'), 'after\n');
    assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['berth.log']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
