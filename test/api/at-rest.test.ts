// Secrets and files at rest (issue #21): the data directory and database are owner-only, and with
// security.secret_key the data key and the token signing key are stored sealed — a copy of the database alone
// opens nothing, and Berth refuses to start without the passphrase (or with a wrong one) instead of half-working.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openBerthDatabase, startBerth, type Berth } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';

const started: Berth[] = [];
after(async () => {
  for (const b of started) await b.stop();
});

const modeOf = (p: string) => statSync(p).mode & 0o777;
function* filesUnder(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else yield p;
  }
}

test('the data directory, the database and every stored blob are owner-only', async () => {
  const b = await startBerth();
  started.push(b);
  const reg = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  await reg.pushImage('library/modes', 'v1');
  assert.equal(modeOf(b.dataDir), 0o700);
  const files = [...filesUnder(b.dataDir)];
  assert.ok(files.length >= 2, files.join('\n'));
  if (b.database === 'sqlite') assert.ok(files.includes(join(b.dataDir, 'berth.db')));
  for (const f of files) assert.equal(modeOf(f) & 0o077, 0, `${f} is ${modeOf(f).toString(8)}`);
});

test('with security.secret_key the keys are stored sealed; no passphrase or a wrong one stops the start with a clear error', async () => {
  const env = { BERTH_SECURITY_SECRET_KEY: 'correct horse battery staple' };
  const b = await startBerth({ env });
  started.push(b);
  const reg = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  await reg.pushImage('library/sealed', 'v1');
  const token = ((await reg.tokenResponse(['repository:library/sealed:pull'])).json() as { token: string }).token;
  const db = await openBerthDatabase(b);
  try {
    const rows = await db.all<{ key: string; value: string }>("SELECT key, value FROM settings WHERE key IN ('token.private_key', 'security.secret_key')");
    assert.equal(rows.length, 2);
    for (const r of rows) {
      assert.match(r.value, /^v1:/, `${r.key} is sealed`);
      assert.doesNotMatch(r.value, /PRIVATE KEY/);
    }
  } finally {
    await db.close();
  }
  await b.stop({ keepData: true });
  const again = (extra: Record<string, string>) => startBerth({ dataDir: b.dataDir, pgDatabase: b.pgDatabase ?? undefined, env: extra });
  await assert.rejects(again({}), /exited with 78[\s\S]*set security\.secret_key/);
  await assert.rejects(again({ BERTH_SECURITY_SECRET_KEY: 'wrong' }), /exited with 78[\s\S]*does not decrypt the stored data key/);
  const b2 = await again(env);
  started.push(b2);
  // The same signing key: a token issued before the restart still pulls.
  const pulled = await fetch(`${b2.url}/v2/library/sealed/manifests/v1`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(pulled.status, 200);
  // (A token signed by another key is refused, so the 200 above is the key's doing, not the public project's.)
  const forged = await fetch(`${b2.url}/v2/library/sealed/manifests/v1`, { headers: { authorization: `Bearer ${token.slice(0, -4)}AAAA` } });
  assert.equal(forged.status, 401);
  assert.doesNotMatch(b2.output(), /correct horse/);
});

test('a deployment that adds a passphrase later keeps its keys: they are sealed in place at the next start', async () => {
  const b = await startBerth();
  started.push(b);
  const reg = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
  await reg.pushImage('library/later', 'v1');
  const token = ((await reg.tokenResponse(['repository:library/later:pull'])).json() as { token: string }).token;
  await b.stop({ keepData: true });
  const b2 = await startBerth({ dataDir: b.dataDir, pgDatabase: b.pgDatabase ?? undefined, env: { BERTH_SECURITY_SECRET_KEY: 'added later' } });
  started.push(b2);
  const pulled = await fetch(`${b2.url}/v2/library/later/manifests/v1`, { headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(pulled.status, 200);
  const db = await openBerthDatabase(b2);
  try {
    const row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'token.private_key'");
    assert.match(row!.value, /^v1:/);
  } finally {
    await db.close();
  }
});
