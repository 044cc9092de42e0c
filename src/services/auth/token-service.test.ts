import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { SqliteDb } from '../../db/sqlite.ts';
import { migrate } from '../../db/migrations.ts';
import { SettingsRepository } from '../../repositories/settings-repository.ts';
import { TOKEN_ISSUER, TOKEN_SERVICE, TokenService, type TokenClaims } from './token-service.ts';

let db: SqliteDb;
let tokens: TokenService;
let realKey: KeyObject; // the server's private key, read back from the database to build precise forgeries
let kid: string;
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });

before(async () => {
  db = new SqliteDb(':memory:');
  await migrate(db);
  const settings = new SettingsRepository(db);
  tokens = await TokenService.create(settings, 30);
  const { createPrivateKey } = await import('node:crypto');
  realKey = createPrivateKey((await settings.findSetting('token.private_key'))!);
  kid = JSON.parse(Buffer.from(tokens.issue('x', []).token.split('.')[0], 'base64url').toString()).kid;
});
after(() => db.close());

const b64u = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
function rs256(header: unknown, claims: unknown, key: KeyObject = realKey): string {
  const input = `${b64u(header)}.${b64u(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
function claims(extra: Partial<Record<keyof TokenClaims, unknown>> = {}): Record<string, unknown> {
  const t = now();
  return {
    iss: TOKEN_ISSUER,
    sub: 'alice',
    aud: TOKEN_SERVICE,
    exp: t + 600,
    nbf: t,
    iat: t,
    jti: 'j' + Math.random(),
    access: [{ type: 'repository', name: 'library/app', actions: ['pull', 'push'] }],
    ...extra,
  };
}

test('issue and verify round trip, with Harbor claims', () => {
  const access = [{ type: 'repository', name: 'library/nginx', actions: ['pull', 'push'] }];
  const t = now();
  const { token, claims: c } = tokens.issue('admin', access, t);
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
  assert.equal(header.alg, 'RS256');
  assert.equal(header.typ, 'JWT');
  assert.match(header.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/, 'libtrust key id');
  assert.equal(c.iss, 'harbor-token-issuer');
  assert.equal(c.aud, 'harbor-registry');
  assert.equal(c.sub, 'admin');
  assert.equal(c.iat, t);
  assert.equal(c.nbf, t);
  assert.equal(c.exp, t + 30 * 60);
  assert.equal(tokens.expiresIn, 1800);
  assert.deepEqual(c.access, access);
  assert.ok(typeof c.jti === 'string' && c.jti.length >= 16);
  const v = tokens.verify(token);
  assert.ok(v);
  assert.deepEqual(v, c);
  assert.deepEqual(JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()), c);
  // Every token is unique (jti).
  assert.notEqual(tokens.issue('admin', access, t).token, token);
  // Anonymous tokens have an empty subject.
  const anon = tokens.issue('', []);
  assert.equal(tokens.verify(anon.token)?.sub, '');
});

test('a token signed with the real key, with the right claims, verifies (the forgery tests below are precise)', () => {
  assert.ok(tokens.verify(rs256({ typ: 'JWT', alg: 'RS256', kid }, claims())));
  assert.ok(tokens.verify(rs256({ alg: 'RS256' }, claims())), 'kid is optional');
});

test('forged tokens are rejected', () => {
  const c = claims();
  const pubPem = createPublicKey(realKey).export({ type: 'spki', format: 'pem' }) as string;
  const hs = (header: unknown, key: string) => {
    const input = `${b64u(header)}.${b64u(c)}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  const forged: [string, string][] = [
    ['alg none, no signature', `${b64u({ alg: 'none', kid })}.${b64u(c)}.`],
    ['alg none, real token signature', `${b64u({ alg: 'none', kid })}.${b64u(c)}.${tokens.issue('alice', []).token.split('.')[2]}`],
    ['alg None', `${b64u({ alg: 'None' })}.${b64u(c)}.`],
    ['HS256 keyed with the public key PEM', hs({ alg: 'HS256', kid }, pubPem)],
    ['HS256 keyed with the kid', hs({ alg: 'HS256', kid }, kid)],
    ['RS256 signed by another key', rs256({ typ: 'JWT', alg: 'RS256', kid }, c, attacker.privateKey)],
    ['RS256 signed by another key, embedded jwk', rs256({ alg: 'RS256', kid, jwk: attackerJwk }, c, attacker.privateKey)],
    ['RS256 signed by another key, embedded jwk, no kid', rs256({ alg: 'RS256', jwk: attackerJwk }, c, attacker.privateKey)],
    ['RS256 signed by another key, x5c', rs256({ alg: 'RS256', kid, x5c: ['MIIB'] }, c, attacker.privateKey)],
    ['RS256 signed by another key, jku', rs256({ alg: 'RS256', kid, jku: 'http://127.0.0.1:1/keys' }, c, attacker.privateKey)],
    ['PS256 with the real key', rs256({ alg: 'PS256', kid }, c)],
    ['RS512 label with the real key', rs256({ alg: 'RS512', kid }, c)],
    ['kid mismatch, real key', rs256({ alg: 'RS256', kid: 'AAAA:BBBB:CCCC:DDDD:EEEE:FFFF:GGGG:HHHH:IIII:JJJJ:KKKK:LLLL' }, c)],
    ['kid of the wrong type', rs256({ alg: 'RS256', kid: 1 }, c)],
    ['wrong audience', rs256({ alg: 'RS256', kid }, claims({ aud: 'other-service' }))],
    ['audience as array', rs256({ alg: 'RS256', kid }, claims({ aud: [TOKEN_SERVICE] }))],
    ['no audience', rs256({ alg: 'RS256', kid }, claims({ aud: undefined }))],
    ['wrong issuer', rs256({ alg: 'RS256', kid }, claims({ iss: 'evil-issuer' }))],
    ['no issuer', rs256({ alg: 'RS256', kid }, claims({ iss: undefined }))],
    ['expired', rs256({ alg: 'RS256', kid }, claims({ iat: now() - 4000, nbf: now() - 4000, exp: now() - 120 }))],
    ['exp as a string', rs256({ alg: 'RS256', kid }, claims({ exp: String(now() + 600) }))],
    ['no exp', rs256({ alg: 'RS256', kid }, claims({ exp: undefined }))],
    ['nbf in the future', rs256({ alg: 'RS256', kid }, claims({ nbf: now() + 600 }))],
    ['missing iat', rs256({ alg: 'RS256', kid }, claims({ iat: undefined }))],
    ['sub not a string', rs256({ alg: 'RS256', kid }, claims({ sub: 1 }))],
    ['access not an array', rs256({ alg: 'RS256', kid }, claims({ access: { type: 'repository' } }))],
    ['claims null', rs256({ alg: 'RS256', kid }, null)],
    ['claims an array', rs256({ alg: 'RS256', kid }, [claims()])],
    ['header null', rs256(null, claims())],
  ];
  for (const [what, token] of forged) assert.equal(tokens.verify(token), null, what);

  // A real token with its payload swapped for an attacker's (signature no longer matches).
  const real = tokens.issue('alice', [{ type: 'repository', name: 'library/app', actions: ['pull'] }]).token.split('.');
  const elevated = b64u({ ...JSON.parse(Buffer.from(real[1], 'base64url').toString()), sub: 'admin', access: [{ type: 'repository', name: 'library/app', actions: ['pull', 'push', 'delete'] }] });
  assert.equal(tokens.verify(`${real[0]}.${elevated}.${real[2]}`), null);
});

test('expiry and not-before honour a 60 s leeway, also for cached tokens', () => {
  const t = now();
  const { token, claims: c } = tokens.issue('bob', [], t);
  assert.ok(tokens.verify(token, t));
  assert.ok(tokens.verify(token, c.exp + 59));
  assert.equal(tokens.verify(token, c.exp + 61), null, 'expired after the leeway, even though it was verified before');
  const fresh = tokens.issue('bob', [], t).token;
  assert.equal(tokens.verify(fresh, c.exp + 3600), null, 'expired on first sight');
  const early = tokens.issue('bob', [], t + 3600).token; // nbf an hour ahead
  assert.equal(tokens.verify(early, t), null);
  assert.ok(tokens.verify(rs256({ alg: 'RS256', kid }, claims({ nbf: now() + 30 }))), 'within the leeway');
});

test('garbage and truncated input never throws', () => {
  const real = tokens.issue('alice', [{ type: 'repository', name: 'a/b', actions: ['pull'] }]).token;
  const garbage = [
    '',
    '.',
    '..',
    '...',
    'a.b.c',
    'a.b',
    'a.b.c.d',
    '!!!.@@@.###',
    'eyJ.eyJ.sig',
    '\u0000.\u0000.\u0000',
    'Bearer ' + real,
    real + '.',
    real + 'x', // non-canonical signature encodings: the same signature bytes, another spelling
    real + 'A',
    real + '=',
    real + ' ',
    real + '\n',
    ' ' + real,
    real.replace(/\./g, '..'),
    real.split('.').reverse().join('.'),
    `${b64u('{"alg":"RS256"')}.${b64u('{')}.AAAA`,
    `${b64u('[]')}.${b64u('[]')}.AAAA`,
    `${b64u('1')}.${b64u('true')}.AAAA`,
    `${b64u({ alg: 'RS256', kid })}.${b64u(claims())}.${'A'.repeat(10)}`,
    `${b64u({ alg: 'RS256', kid })}.${b64u(claims())}.${'A'.repeat(100_000)}`,
    'x'.repeat(200_000),
    '🙂.🙂.🙂',
  ];
  for (const g of garbage) assert.doesNotThrow(() => assert.equal(tokens.verify(g), null), JSON.stringify(g.slice(0, 40)));
  for (let i = 0; i < real.length; i++) {
    assert.equal(tokens.verify(real.slice(0, i)), null, `truncated to ${i}`);
    assert.equal(tokens.verify(real.slice(i + 1)), null, `head cut at ${i}`);
  }
  // Flipping any one character of the signature breaks it.
  const [h, p, s] = real.split('.');
  for (let i = 0; i < s.length; i += 7) {
    const flipped = s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    assert.equal(tokens.verify(`${h}.${p}.${flipped}`), null, `signature char ${i}`);
  }
  assert.ok(tokens.verify(real), 'the untouched token still verifies');
});

test('grantedActions only for the matching repository name and known actions', () => {
  const { claims: c } = tokens.issue('alice', [
    { type: 'repository', name: 'library/app', actions: ['pull', 'push'] },
    { type: 'repository', name: 'library/app', actions: ['delete', '*', 'admin'] },
    { type: 'repository', name: 'library/other', actions: ['pull'] },
    { type: 'registry', name: 'library/app', actions: ['pull', 'push'] },
    { type: 'repository', name: 'localhost:5000/library/app', actions: ['pull'] },
  ]);
  assert.deepEqual([...TokenService.grantedActions(c, 'library/app')].sort(), ['delete', 'pull', 'push']);
  assert.deepEqual([...TokenService.grantedActions(c, 'library/other')], ['pull']);
  assert.deepEqual([...TokenService.grantedActions(c, 'library/ap')], []);
  assert.deepEqual([...TokenService.grantedActions(c, 'library/app/sub')], []);
  assert.deepEqual([...TokenService.grantedActions(c, 'Library/App')], []);
  assert.deepEqual([...TokenService.grantedActions(c, 'library')], []);
  assert.deepEqual([...TokenService.grantedActions(c, 'localhost:5000/library/app')], ['pull']);
  // Malformed access entries (in a token we signed ourselves) grant nothing and do not throw.
  const odd = { ...c, access: [null, 'x', { type: 'repository', name: 'library/app' }, { type: 'repository', name: 'library/app', actions: 'pull' }] } as unknown as TokenClaims;
  assert.deepEqual([...TokenService.grantedActions(odd, 'library/app')], []);
});

test('TokenService.create on the same database shares one key; a new database gets another', async () => {
  const second = await TokenService.create(new SettingsRepository(db), 5);
  const fromFirst = tokens.issue('alice', []).token;
  const fromSecond = second.issue('alice', []).token;
  assert.ok(second.verify(fromFirst));
  assert.ok(tokens.verify(fromSecond));
  assert.equal(second.expiresIn, 300);

  // Two processes starting at once on a fresh database agree on one key.
  const other = new SqliteDb(':memory:');
  try {
    await migrate(other);
    const [a, b] = await Promise.all([TokenService.create(new SettingsRepository(other), 30), TokenService.create(new SettingsRepository(other), 30)]);
    assert.ok(b.verify(a.issue('x', []).token));
    assert.ok(a.verify(b.issue('x', []).token));
    // ... and that key is not the first database's.
    assert.equal(tokens.verify(a.issue('x', []).token), null);
    assert.equal(a.verify(fromFirst), null);
  } finally {
    await other.close();
  }
});
