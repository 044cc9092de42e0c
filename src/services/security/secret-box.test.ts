import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox, type SecretKeyStore } from './secret-box.ts';

function memoryStore(): SecretKeyStore & { rows: Map<string, string> } {
  const rows = new Map<string, string>();
  return {
    rows,
    findSetting: async (k) => rows.get(k) ?? null,
    saveSettingIfAbsent: async (k, v) => {
      if (!rows.has(k)) rows.set(k, v);
      return rows.get(k)!;
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

test('a configured key is used instead of the stored one; other keys and altered values are refused', async () => {
  const store = memoryStore();
  const configured = await SecretBox.create(store, 'operator passphrase');
  assert.equal(store.rows.size, 0);
  const sealed = configured.seal('token');
  assert.equal((await SecretBox.create(store, 'operator passphrase')).open(sealed), 'token');
  const other = await SecretBox.create(store, 'other');
  assert.throws(() => other.open(sealed));
  const raw = Buffer.from(sealed.slice(3), 'base64');
  raw[raw.length - 1]! ^= 1;
  assert.throws(() => configured.open('v1:' + raw.toString('base64')));
  assert.throws(() => configured.open('plain'), /not a sealed value/);
});

