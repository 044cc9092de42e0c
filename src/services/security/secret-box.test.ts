import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox, SecretKeyError, type SecretKeyStore } from './secret-box.ts';

function memoryStore(): SecretKeyStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    findSetting: async (k) => rows.get(k) ?? null,
    saveSettingIfAbsent: async (k, v) => {
      if (!rows.has(k)) rows.set(k, v);
      return rows.get(k)!;
    },
    replaceSetting: async (k, expected, v) => {
      if (rows.get(k) === expected) rows.set(k, v);
    },
  };
}

test('seal/open round trip; ciphertext hides the value and differs per seal', async () => {
  const box = await SecretBox.create(memoryStore());
  const a = box.seal('Bearer s3cr3t');
  const b = box.seal('Bearer s3cr3t');
  assert.notEqual(a, b);
  assert.doesNotMatch(a, /s3cr3t/);
  assert.equal(box.open(a), 'Bearer s3cr3t');
  assert.equal(box.open(box.seal('')), '');
});

test('the generated key is stored once and shared by every process of the deployment', async () => {
  const store = memoryStore();
  const one = await SecretBox.create(store);
  const two = await SecretBox.create(store);
  assert.equal(store.rows.size, 1);
  assert.equal(two.open(one.seal('x')), 'x');
});

test('a passphrase wraps the data key: the stored row opens nothing without it; a wrong one or none is refused', async () => {
  const store = memoryStore();
  const box = await SecretBox.create(store, 'operator passphrase');
  assert.equal(box.protectedAtRest, true);
  const row = store.rows.get('security.secret_key')!;
  assert.match(row, /^v1:/, 'the data key is stored sealed');
  const sealed = box.seal('token');
  assert.equal((await SecretBox.create(store, 'operator passphrase')).open(sealed), 'token');
  await assert.rejects(SecretBox.create(store, 'other'), SecretKeyError);
  await assert.rejects(SecretBox.create(store), /set security.secret_key/);
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[raw.length - 1]! ^= 1;
  assert.throws(() => box.open('v1:' + raw.toString('base64')));
  assert.throws(() => box.open('plain'), /not a sealed value/);
});

test('a deployment that gains a passphrase keeps reading what it sealed before: its data key is wrapped in place', async () => {
  const store = memoryStore();
  const before = await SecretBox.create(store);
  assert.equal(before.protectedAtRest, false);
  const sealed = before.seal('webhook auth header');
  const after = await SecretBox.create(store, 'new passphrase');
  assert.match(store.rows.get('security.secret_key')!, /^v1:/);
  assert.equal(after.open(sealed), 'webhook auth header');
  assert.equal((await SecretBox.create(store, 'new passphrase')).open(sealed), 'webhook auth header');
});
