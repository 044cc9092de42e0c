// The background purge removes idle upload sessions (row and bytes) and stray upload directories that have no
// session, and leaves sessions in use alone.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth } from '../helpers/berth.ts';
import { errorCode, openSession, patchChunk, req, sha256, sleep, uploadsDir, waitFor, expectStatus } from './lib.ts';

// The two tests run side by side (each on its own process) to keep the file short.
describe('upload purge', { concurrency: 2 }, () => {
  test('idle upload sessions and stray upload directories are purged', async () => {
    const b = await startBerth({ env: { BERTH_REGISTRY_UPLOAD_IDLE_TIMEOUT: '1', BERTH_REGISTRY_UPLOAD_PURGE_INTERVAL: '1' } });
    try {
      const repo = 'library/purge';
      const idle = await openSession(b, repo);
      await patchChunk(b, idle.location, 0, randomBytes(64 * 1024));
      const idleDir = join(uploadsDir(b), idle.id);
      assert.ok(existsSync(idleDir) && readdirSync(idleDir).length === 1, 'the acknowledged chunk is stored as one part');

      // Bytes left by a crashed process: a directory with no session row.
      const strayId = randomUUID();
      const strayDir = join(uploadsDir(b), strayId);
      mkdirSync(strayDir);
      writeFileSync(join(strayDir, 'data'), randomBytes(1000));

      await waitFor('the purge of the idle session and the stray directory', () => !existsSync(idleDir) && !existsSync(strayDir), 30_000);
      const st = await req(b, 'GET', idle.location);
      assert.equal(st.status, 404);
      assert.equal(await errorCode(st), 'BLOB_UPLOAD_UNKNOWN');
      const patch = await req(b, 'PATCH', idle.location, { body: Buffer.from('x'), headers: { 'content-range': '65536-65536' } });
      assert.equal(patch.status, 404);
      assert.equal(await errorCode(patch), 'BLOB_UPLOAD_UNKNOWN');
    } catch (e) {
      process.stderr.write(`--- berth output ---\n${b.output()}\n`);
      throw e;
    } finally {
      await b.stop();
    }
  });

  // A separate process with a 3 s idle timeout, so that a loaded machine (a PATCH every 250 ms stretched by
  // scheduling delays) cannot make an active session look idle.
  test('a session in active use is not purged', async () => {
    const b = await startBerth({ env: { BERTH_REGISTRY_UPLOAD_IDLE_TIMEOUT: '3', BERTH_REGISTRY_UPLOAD_PURGE_INTERVAL: '1' } });
    try {
      const repo = 'library/purge-active';
      const idle = await openSession(b, repo);
      const active = await openSession(b, repo);
      const parts: Buffer[] = [];
      let size = 0;
      const start = Date.now();
      // Well past the idle timeout plus a purge interval, a chunk every 250 ms.
      while (Date.now() - start < 5000) {
        const c = randomBytes(1000);
        await patchChunk(b, active.location, size, c);
        parts.push(c);
        size += c.length;
        await sleep(250);
      }
      // Meanwhile the untouched session went (proof that the purge did run).
      await waitFor('the purge of the untouched session', () => !existsSync(join(uploadsDir(b), idle.id)), 10_000);
      assert.equal(await errorCode(await req(b, 'GET', idle.location)), 'BLOB_UPLOAD_UNKNOWN');
      const st = await req(b, 'GET', active.location);
      assert.equal(st.status, 204);
      assert.equal(st.headers.get('range'), `0-${size - 1}`);
      const all = Buffer.concat(parts);
      const put = await req(b, 'PUT', `${active.location}?digest=${sha256(all)}`);
      await expectStatus(put, 201, 'finish the active session');
      assert.ok(!existsSync(join(uploadsDir(b), active.id)));
    } catch (e) {
      process.stderr.write(`--- berth output ---\n${b.output()}\n`);
      throw e;
    } finally {
      await b.stop();
    }
  });
});
