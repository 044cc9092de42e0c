// Security properties of /v2 (research/reliability-security.md §6 rows 5, 6, 7, 15, 16, 17, 22): name and digest
// traversal, upload-session hijack, cross-repository blob leakage and JWT forgery. No request may get a 5xx.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { expectStatus, repoName, useBerth, type Fixture } from './fixture.ts';
import { MediaTypes, RegistryClient, digestOf, randomBlob, rawHttp, type RegistryResponse } from '../helpers/registry-client.ts';

const CANARY = 'canary-' + randomBytes(8).toString('hex');
let canaryPath = '';
let serverKey: KeyObject;
const repoA = repoName('sec-a');
const repoB = repoName('sec-b');
let blobA: { digest: string; data: Buffer };
let imageA: Awaited<ReturnType<RegistryClient['pushImage']>>;

/** The server's token signing key, read from its database (to forge tokens whose only flaw is a claim). */
async function readSigningKey(f: Fixture): Promise<KeyObject> {
  let pem: string;
  if (f.berth.database === 'postgres') {
    const c = new pg.Client({ connectionString: f.berth.pgUrl! });
    await c.connect();
    try {
      pem = (await c.query('SELECT value FROM settings WHERE key = $1', ['token.private_key'])).rows[0].value;
    } finally {
      await c.end();
    }
  } else {
    const db = new DatabaseSync(join(f.berth.dataDir, 'berth.db'), { readOnly: true });
    try {
      pem = (db.prepare('SELECT value FROM settings WHERE key = ?').get('token.private_key') as { value: string }).value;
    } finally {
      db.close();
    }
  }
  return createPrivateKey(pem);
}

const f = useBerth({}, async (f) => {
  // A file next to the storage root that traversal attempts would aim at.
  canaryPath = join(f.berth.dataDir, 'canary');
  writeFileSync(canaryPath, CANARY);
  serverKey = await readSigningKey(f);
  const data = randomBlob(500);
  blobA = { digest: (await f.admin.pushBlob(repoA, data)).digest, data };
  imageA = await f.admin.pushImage(repoA, 'v1');
  await f.admin.pushImage(repoB, 'v1');
});

const basic = () => ({ authorization: f.admin.basicHeader() });

function assertNot5xx(r: RegistryResponse, what: string) {
  assert.ok(r.status < 500, `${what}: ${r}`);
}

// ---- names ---------------------------------------------------------------------------------------------------

const BAD_NAMES = [
  'library/../b',
  'library/%2e%2e/b',
  'library/%2E%2E/b',
  'library/.%2e/b',
  'library/a/../../../etc',
  'library/./a',
  '../library/a',
  'library/UPPER',
  'Library/a',
  'library//a',
  'library/a/',
  '/library/a',
  'library/-a',
  'library/a-',
  'library/a.',
  'library/a%00b',
  'library/a%0ab',
  'library/a%20b',
  'library/caf%C3%A9',
  'library/%ff',
  'library/' + 'a'.repeat(248),
  'library/' + 'a'.repeat(5000),
];

test('invalid repository names → 400 NAME_INVALID on every endpoint, never 5xx', async () => {
  const d = digestOf('x');
  for (const name of BAD_NAMES) {
    const paths: [string, string][] = [
      ['GET', `/v2/${name}/manifests/latest`],
      ['HEAD', `/v2/${name}/manifests/latest`],
      ['PUT', `/v2/${name}/manifests/latest`],
      ['DELETE', `/v2/${name}/manifests/${d}`],
      ['GET', `/v2/${name}/blobs/${d}`],
      ['DELETE', `/v2/${name}/blobs/${d}`],
      ['POST', `/v2/${name}/blobs/uploads/`],
      ['POST', `/v2/${name}/blobs/uploads/?digest=${d}`],
      ['PATCH', `/v2/${name}/blobs/uploads/00000000-0000-0000-0000-000000000000`],
      ['GET', `/v2/${name}/tags/list`],
      ['GET', `/v2/${name}/referrers/${d}`],
    ];
    for (const [method, path] of paths) {
      const r = await rawHttp(f.berth.url, method, path, {
        headers: { ...basic(), 'content-type': MediaTypes.OciManifest },
        body: method === 'PUT' ? JSON.stringify(imageA.manifest) : undefined,
      });
      assertNot5xx(r, `${method} ${path}`);
      assert.equal(r.status, 400, `${method} ${path.slice(0, 120)}: ${r}`);
      if (method !== 'HEAD') assert.ok(r.errorCodes().includes('NAME_INVALID'), `${method} ${path.slice(0, 120)}: ${r}`);
    }
  }
  // anonymously too (validation comes before the challenge)
  const anon = await rawHttp(f.berth.url, 'GET', '/v2/library/../b/manifests/latest');
  expectStatus(anon, 400, 'NAME_INVALID');
  // the longest valid name is accepted
  const longest = 'library/' + 'a'.repeat(255 - 'library/'.length);
  expectStatus(await f.basic.request('GET', `/v2/${longest}/tags/list`), 404, 'NAME_UNKNOWN');
  assert.equal(readFileSync(canaryPath, 'utf8'), CANARY);
});

test('mount from= and upload paths with traversal do not escape', async () => {
  const froms = ['library/../' + repoA.split('/')[1], '../../etc', 'library/%2e%2e', repoA + '/..', 'a'.repeat(5000)];
  for (const from of froms) {
    const r = await f.basic.startUpload(repoB, { mount: blobA.digest, from });
    assertNot5xx(r, `from=${from}`);
    expectStatus(r, 202);
  }
  expectStatus(await f.admin.headBlob(repoB, blobA.digest), 404);
});

// ---- digests -------------------------------------------------------------------------------------------------

const BAD_DIGESTS = [
  'sha256:..',
  'sha256:' + 'a'.repeat(63),
  'sha256:abc',
  'sha256:' + 'g'.repeat(64),
  'sha256:' + 'A'.repeat(64),
  'sha256:' + 'a'.repeat(65),
  'sha512:' + 'a'.repeat(64),
  'md5:' + 'a'.repeat(32),
  'sha384:' + 'a'.repeat(96),
  'SHA256:' + 'a'.repeat(64),
  'sha256:',
  ':' + 'a'.repeat(64),
  'sha256:%2e%2e',
  'sha256:' + 'a'.repeat(62) + '%00',
  'sha256:' + 'a'.repeat(5000),
];

test('malformed digests → 400 DIGEST_INVALID on blobs, manifests, uploads and referrers', async () => {
  const loc = await f.admin.openSession(repoA);
  for (const d of BAD_DIGESTS) {
    const enc = encodeURIComponent(decodeURIComponent(d));
    const cases: [string, string][] = [
      ['GET', `/v2/${repoA}/blobs/${d}`],
      ['DELETE', `/v2/${repoA}/blobs/${d}`],
      ['GET', `/v2/${repoA}/referrers/${d}`],
      ['POST', `/v2/${repoA}/blobs/uploads/?digest=${enc}`],
      ['POST', `/v2/${repoA}/blobs/uploads/?mount=${enc}&from=${repoB}`],
      ['PUT', `${loc.pathname}?digest=${enc}`],
    ];
    // a reference with ':' is a digest
    if (d.includes(':') && !d.startsWith(':')) cases.push(['GET', `/v2/${repoA}/manifests/${d}`], ['DELETE', `/v2/${repoA}/manifests/${d}`]);
    for (const [method, path] of cases) {
      const r = await rawHttp(f.berth.url, method, path, { headers: basic() });
      assertNot5xx(r, `${method} ${path}`);
      assert.equal(r.status, 400, `${method} ${path.slice(0, 150)}: ${r}`);
      assert.ok(r.errorCodes().includes('DIGEST_INVALID'), `${method} ${path.slice(0, 150)}: ${r}`);
    }
  }
  // a digest with a slash in it never reaches a blob route: it is not a valid endpoint (400), never a file read
  for (const path of [`/v2/${repoA}/blobs/sha256:../x`, `/v2/${repoA}/blobs/sha256:..%2F..%2F..%2Fcanary`, `/v2/${repoA}/blobs/sha256:%2e%2e%2fcanary`]) {
    const r = await rawHttp(f.berth.url, 'GET', path, { headers: basic() });
    assert.equal(r.status, 400, `${path}: ${r}`);
    assert.ok(r.errorCodes().some((c) => c === 'DIGEST_INVALID' || c === 'NAME_INVALID'), String(r));
    assert.ok(!r.text().includes(CANARY));
  }
  // the session survived all of that
  expectStatus(await f.admin.request('GET', loc.toString()), 204);
  assert.equal(readFileSync(canaryPath, 'utf8'), CANARY);
});

// ---- upload sessions -----------------------------------------------------------------------------------------

test('an upload session opened in repository A cannot be used under repository B', async () => {
  const data = randomBlob(1000);
  const d = digestOf(data);
  const locA = await f.admin.openSession(repoA);
  expectStatus(await f.admin.request('PATCH', locA.toString(), { body: data.subarray(0, 500), headers: { 'content-range': '0-499' } }), 202);
  const id = locA.pathname.split('/').pop()!;
  const inB = `/v2/${repoB}/blobs/uploads/${id}`;
  for (const c of [f.admin, f.basic]) {
    expectStatus(await c.request('GET', inB), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectStatus(await c.request('PATCH', inB, { body: data.subarray(500), headers: { 'content-range': '500-999' } }), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectStatus(await c.request('PUT', `${inB}?digest=${d}`, { body: data.subarray(500) }), 404, 'BLOB_UPLOAD_UNKNOWN');
    expectStatus(await c.request('DELETE', inB), 404, 'BLOB_UPLOAD_UNKNOWN');
  }
  // nor in a repository of another project, nor anonymously
  expectStatus(await f.anon.request('GET', inB), 401, 'UNAUTHORIZED');
  expectStatus(await f.anon.request('PATCH', locA.toString(), { body: data.subarray(500) }), 401, 'UNAUTHORIZED');
  expectStatus(await f.anon.request('DELETE', locA.toString()), 401, 'UNAUTHORIZED');
  expectStatus(await f.admin.headBlob(repoB, d), 404);
  // A finishes normally with the right digest
  const st = await f.admin.request('GET', locA.toString());
  expectStatus(st, 204);
  assert.equal(st.header('range'), '0-499');
  expectStatus(await f.admin.request('PUT', `${locA}?digest=${d}`, { body: data.subarray(500), headers: { 'content-range': '500-999' } }), 201);
  expectStatus(await f.admin.headBlob(repoA, d), 200);
  expectStatus(await f.admin.headBlob(repoB, d), 404);
});

// ---- cross-repository leakage --------------------------------------------------------------------------------

test('a blob pushed only to A is unknown in B (storage dedupes, visibility does not)', async () => {
  for (const c of [f.admin, f.basic, f.anon]) {
    expectStatus(await c.headBlob(repoB, blobA.digest), 404);
    expectStatus(await c.getBlob(repoB, blobA.digest), 404, 'BLOB_UNKNOWN');
    expectStatus(await c.getBlob(repoB, blobA.digest, { headers: { range: 'bytes=0-10' } }), 404, 'BLOB_UNKNOWN');
  }
  expectStatus(await f.admin.request('DELETE', `/v2/${repoB}/blobs/${blobA.digest}`), 404, 'BLOB_UNKNOWN');
  // a manifest in B cannot reference A's blob
  const m = { ...imageA.manifest, layers: [{ mediaType: MediaTypes.OciLayer, digest: blobA.digest, size: blobA.data.length }] };
  const cfg = imageA.config;
  await f.admin.pushBlob(repoB, (await f.admin.getBlob(repoA, cfg.digest)).body);
  expectStatus(await f.admin.putManifest(repoB, 'leak', m), 400, 'MANIFEST_BLOB_UNKNOWN');
  // nor A's manifest from an index, nor read it by digest
  const idx = { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [{ mediaType: MediaTypes.OciManifest, digest: imageA.digest, size: imageA.bytes.length }] };
  expectStatus(await f.admin.putManifest(repoB, 'leak', idx), 400, 'MANIFEST_BLOB_UNKNOWN');
  expectStatus(await f.admin.getManifest(repoB, imageA.digest), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.headManifest(repoB, imageA.digest), 404);
  // after a re-push of the same bytes to B it is visible there; deleting it in A leaves B intact
  const repoC = repoName('sec-c');
  const data = randomBlob(64);
  const d = (await f.admin.pushBlob(repoA, data)).digest;
  await f.admin.pushBlob(repoC, data);
  expectStatus(await f.admin.request('DELETE', `/v2/${repoA}/blobs/${d}`), 202);
  expectStatus(await f.admin.getBlob(repoA, d), 404, 'BLOB_UNKNOWN');
  const g = await f.admin.getBlob(repoC, d);
  expectStatus(g, 200);
  assert.deepEqual(g.body, data);
});

// ---- JWT forgery ---------------------------------------------------------------------------------------------

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function claims(over: Record<string, unknown> = {}, access = [{ type: 'repository', name: repoA, actions: ['pull', 'push', 'delete'] }]) {
  const now = Math.floor(Date.now() / 1000);
  return { iss: 'harbor-token-issuer', sub: 'admin', aud: 'harbor-registry', exp: now + 600, nbf: now, iat: now, jti: randomBytes(8).toString('hex'), access, ...over };
}

function rs256(payload: object, key: KeyObject = serverKey, header: Record<string, unknown> = { typ: 'JWT', alg: 'RS256' }): string {
  const signing = `${b64u(header)}.${b64u(payload)}`;
  return `${signing}.${sign('sha256', Buffer.from(signing), key).toString('base64url')}`;
}

function hs256(payload: object, secret: string | Buffer): string {
  const signing = `${b64u({ typ: 'JWT', alg: 'HS256' })}.${b64u(payload)}`;
  return `${signing}.${createHmac('sha256', secret).update(signing).digest('base64url')}`;
}

async function withToken(token: string, method = 'GET', path = `/v2/${repoA}/manifests/v1`, body?: Buffer) {
  return f.admin.request(method, path, {
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': MediaTypes.OciManifest } : {}), accept: MediaTypes.OciManifest },
    body,
  });
}

function expectInvalidToken(r: RegistryResponse, what: string) {
  assert.equal(r.status, 401, `${what}: ${r}`);
  assert.ok(r.errorCodes().includes('UNAUTHORIZED'), `${what}: ${r}`);
  const c = r.challenge();
  assert.equal(c?.scheme, 'bearer', what);
  assert.equal(c?.params.error, 'invalid_token', what);
}

test('control: a token signed with the server key and correct claims works', async () => {
  expectStatus(await withToken(rs256(claims())), 200);
});

test('forged tokens → 401 invalid_token: alg none, embedded jwk/x5c/jku, HS256 (any secret or the public key)', async () => {
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = attacker.publicKey.export({ format: 'jwk' });
  const serverPub = createPublicKey(serverKey);
  const pubPem = serverPub.export({ type: 'spki', format: 'pem' }) as string;
  const pubDer = serverPub.export({ type: 'spki', format: 'der' });
  const c = claims();
  const forged: [string, string][] = [
    ['alg none', `${b64u({ typ: 'JWT', alg: 'none' })}.${b64u(c)}.`],
    ['alg none, no dot', `${b64u({ typ: 'JWT', alg: 'none' })}.${b64u(c)}`],
    ['alg None', `${b64u({ typ: 'JWT', alg: 'None' })}.${b64u(c)}.`],
    ['embedded jwk', rs256(c, attacker.privateKey, { typ: 'JWT', alg: 'RS256', jwk })],
    ['embedded x5c', rs256(c, attacker.privateKey, { typ: 'JWT', alg: 'RS256', x5c: [Buffer.from('not a cert').toString('base64')] })],
    ['jku', rs256(c, attacker.privateKey, { typ: 'JWT', alg: 'RS256', jku: `${f.berth.url}/jwks.json` })],
    ['attacker key, no header hints', rs256(c, attacker.privateKey)],
    ['HS256 with a guessed secret', hs256(c, 'secret')],
    ['HS256 with the public key PEM', hs256(c, pubPem)],
    ['HS256 with the public key DER', hs256(c, pubDer)],
    ['RS256 header, HS256 signature over the PEM', (() => {
      const signing = `${b64u({ typ: 'JWT', alg: 'RS256' })}.${b64u(c)}`;
      return `${signing}.${createHmac('sha256', pubPem).update(signing).digest('base64url')}`;
    })()],
    ['PS256', (() => {
      const signing = `${b64u({ typ: 'JWT', alg: 'PS256' })}.${b64u(c)}`;
      return `${signing}.${sign('sha256', Buffer.from(signing), { key: serverKey, padding: 6 }).toString('base64url')}`;
    })()],
    ['wrong kid', rs256(c, serverKey, { typ: 'JWT', alg: 'RS256', kid: 'AAAA:BBBB' })],
  ];
  for (const [what, token] of forged) expectInvalidToken(await withToken(token), what);
});

test('server-signed tokens with a bad claim → 401: aud, iss, expired, not yet valid, no iat, no exp, bad sub/access', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases: [string, object][] = [
    ['wrong aud', claims({ aud: 'other-registry' })],
    ['aud array', claims({ aud: ['other'] })],
    ['wrong iss', claims({ iss: 'evil-issuer' })],
    ['expired', claims({ exp: now - 3600, iat: now - 7200, nbf: now - 7200 })],
    ['not yet valid', claims({ nbf: now + 3600 })],
    ['no iat', claims({ iat: undefined })],
    ['string iat', claims({ iat: String(now) })],
    ['no exp', claims({ exp: undefined })],
    ['sub not a string', claims({ sub: 1 })],
    ['access not an array', claims({ access: { type: 'repository', name: repoA, actions: ['pull'] } })],
  ];
  for (const [what, c] of cases) expectInvalidToken(await withToken(rs256(c)), what);
  // a real token whose payload was edited
  const real = await f.admin.token([`repository:${repoB}:pull`]);
  const [h, , s] = real.split('.');
  expectInvalidToken(await withToken(`${h}.${b64u(claims())}.${s}`), 'tampered payload');
  // garbage
  for (const t of ['', 'abc', 'a.b.c', '...', '%%%.%%%.%%%', 'x'.repeat(12_000), `${b64u('{')}.${b64u('{')}.x`, `${b64u('null')}.${b64u('null')}.x`]) {
    const r = await withToken(t);
    assertNot5xx(r, `garbage ${t.slice(0, 20)}`);
    expectStatus(r, 401, 'UNAUTHORIZED');
  }
  // past Node's header limit the request is refused before routing
  expectStatus(await withToken('x'.repeat(70_000)), 431);
});

test('scope confusion: a token for A used on B, pull-only used to push or delete → 401 insufficient_scope', async () => {
  const onlyA = rs256(claims({}, [{ type: 'repository', name: repoA, actions: ['pull', 'push', 'delete'] }]));
  for (const [method, path] of [
    ['GET', `/v2/${repoB}/manifests/v1`],
    ['GET', `/v2/${repoB}/tags/list`],
    ['POST', `/v2/${repoB}/blobs/uploads/`],
    ['DELETE', `/v2/${repoB}/manifests/v1`],
  ]) {
    const r = await withToken(onlyA, method, path);
    expectStatus(r, 401, 'UNAUTHORIZED');
    assert.equal(r.challenge()!.params.error, 'insufficient_scope', `${method} ${path}`);
  }
  // a name that only differs by prefix is another repository
  const prefix = rs256(claims({}, [{ type: 'repository', name: repoA.slice(0, -1), actions: ['pull'] }]));
  expectStatus(await withToken(prefix), 401, 'UNAUTHORIZED');
  // pull-only: reads work, writes do not
  const pullOnly = rs256(claims({}, [{ type: 'repository', name: repoA, actions: ['pull'] }]));
  expectStatus(await withToken(pullOnly), 200);
  const cases: [string, string, Buffer?][] = [
    ['POST', `/v2/${repoA}/blobs/uploads/`],
    ['PUT', `/v2/${repoA}/manifests/v9`, imageA.bytes],
    ['DELETE', `/v2/${repoA}/manifests/v1`],
    ['DELETE', `/v2/${repoA}/blobs/${blobA.digest}`],
  ];
  for (const [method, path, body] of cases) {
    const r = await withToken(pullOnly, method, path, body);
    expectStatus(r, 401, 'UNAUTHORIZED');
    assert.equal(r.challenge()!.params.error, 'insufficient_scope', `${method} ${path}`);
  }
  // push without delete cannot delete
  const pushOnly = rs256(claims({}, [{ type: 'repository', name: repoA, actions: ['pull', 'push'] }]));
  expectStatus(await withToken(pushOnly, 'DELETE', `/v2/${repoA}/manifests/v1`), 401, 'UNAUTHORIZED');
  // unknown actions and types grant nothing
  const odd = rs256(claims({}, [{ type: 'registry', name: repoA, actions: ['*'] }, { type: 'repository', name: repoA, actions: ['*', 'admin'] }]));
  expectStatus(await withToken(odd), 401, 'UNAUTHORIZED');
  // a token for a user that does not exist (or no longer does) grants nothing, whatever its claims (issue 21)
  const ghost = rs256(claims({ sub: 'ghost' }, [{ type: 'repository', name: repoA, actions: ['pull'] }]));
  expectStatus(await withToken(ghost), 401, 'UNAUTHORIZED');
  expectStatus(await withToken(ghost, 'GET', '/v2/'), 401, 'UNAUTHORIZED');
  // the writes really did not happen
  expectStatus(await f.admin.getManifest(repoA, 'v9'), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repoA, 'v1'), 200);
  expectStatus(await f.admin.getBlob(repoA, blobA.digest), 200);
});

test('odd Authorization headers never cause a 5xx', async () => {
  const headers = [
    'Basic',
    'Basic ',
    'Basic Og==',
    'Basic ' + Buffer.from('admin').toString('base64'),
    'Basic ' + Buffer.from(':' + f.berth.adminPassword).toString('base64'),
    'Basic ' + Buffer.from('admin:' + 'x'.repeat(5000)).toString('base64'),
    'Basic ' + Buffer.from('\u00e9\u0000:\u0000').toString('base64'),
    'Bearer',
    'Bearer ',
    'Digest username="admin"',
    'Negotiate abc',
    'x'.repeat(8000),
  ];
  for (const h of headers) {
    const r = await f.admin.request('GET', `/v2/${repoA}/manifests/v1`, { headers: { authorization: h } });
    assertNot5xx(r, h.slice(0, 30));
    assert.equal(r.status, 401, `${h.slice(0, 30)}: ${r}`);
    const t = await f.admin.send('GET', `${f.berth.url}/service/token?service=harbor-registry&scope=repository:${repoA}:pull`, { headers: { authorization: h } });
    assertNot5xx(t, `token ${h.slice(0, 30)}`);
  }
});

test('size limits: n=1e9 on listings is clamped or refused; a long query string is not a 5xx', async () => {
  const t = await f.admin.request('GET', `/v2/${repoA}/tags/list?n=999999999`);
  expectStatus(t, 200);
  expectStatus(await f.admin.request('GET', `/v2/${repoA}/tags/list?n=1000000000`), 400);
  const c = await f.admin.request('GET', '/v2/_catalog?n=999999999');
  expectStatus(c, 200);
  const big = await f.admin.request('GET', `/v2/${repoA}/tags/list?last=${'z'.repeat(20_000)}`);
  assertNot5xx(big, 'long last');
  assert.ok(existsSync(canaryPath));
});

test('NUL and control characters in stored or queried text → 4xx on both backends (PostgreSQL refuses NUL in text)', async () => {
  const empty = await f.admin.pushBlob(repoA, Buffer.from('{}'));
  const subject = { mediaType: MediaTypes.OciManifest, digest: imageA.digest, size: imageA.bytes.length };
  const base = { schemaVersion: 2, mediaType: MediaTypes.OciManifest, config: { mediaType: MediaTypes.OciEmpty, digest: empty.digest, size: 2 }, layers: [], subject };
  const bad: Record<string, unknown>[] = [
    { ...base, artifactType: 'application/a\u0000b' },
    { ...base, config: { ...base.config, mediaType: 'application/c\u0000d' } },
    { ...base, artifactType: 'application/a\nb' },
    { ...base, layers: [{ mediaType: 'x\u0000', digest: empty.digest, size: 2 }] },
  ];
  for (const m of bad) expectStatus(await f.admin.putManifest(repoA, 'nul', m), 400, 'MANIFEST_INVALID');
  // NUL inside annotations is just JSON data: accepted and returned byte-exact
  const withAnn = await f.admin.pushManifest(repoA, 'ann', { ...base, annotations: { 'k\u0000': 'v\u0000' } });
  expectStatus(await f.admin.getManifest(repoA, withAnn.digest), 200);
  const refs = await f.admin.request('GET', `/v2/${repoA}/referrers/${imageA.digest}`);
  expectStatus(refs, 200);
  assert.deepEqual(refs.json().manifests.find((d: { digest: string }) => d.digest === withAnn.digest).annotations, { 'k\u0000': 'v\u0000' });
  const filtered = await f.admin.request('GET', `/v2/${repoA}/referrers/${imageA.digest}?artifactType=%00`);
  expectStatus(filtered, 200);
  assert.deepEqual(filtered.json().manifests, []);
  expectStatus(await f.admin.request('GET', `/v2/${repoA}/tags/list?last=%00`), 400);
  expectStatus(await f.admin.request('GET', `/v2/${repoA}/tags/list?last=a%00b`), 400);
  expectStatus(await f.admin.request('GET', '/v2/_catalog?last=%00'), 400);
  // credentials and token scopes
  expectStatus(await f.admin.request('GET', '/v2/', { headers: { authorization: f.admin.basicHeader('ad\u0000min', 'x') } }), 401, 'UNAUTHORIZED');
  const tokenNul = await f.admin.tokenResponse(['repository:lib\u0000rary/x:pull', 'repository:library/x\u0000:pull']);
  assertNot5xx(tokenNul, 'token scope with NUL');
  expectStatus(tokenNul, 200);
  const access = JSON.parse(Buffer.from(tokenNul.json().token.split('.')[1], 'base64url').toString()).access;
  for (const a of access) assert.deepEqual(a.actions, [], JSON.stringify(a));
  expectStatus(await f.admin.tokenPasswordGrant([], 'ad\u0000min', 'x'), 401, 'UNAUTHORIZED');
});
