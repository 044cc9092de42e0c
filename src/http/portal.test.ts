import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Portal, isApiPath, portalRoutes } from './portal.ts';

async function serve(dir: string) {
  const app = Fastify();
  const portal = new Portal(dir);
  await app.register(async (scope) => portalRoutes(scope, portal));
  app.setNotFoundHandler((req, reply) => (portal.fallback(req, reply) ? reply : reply.code(404).send({ errors: [{ code: 'NOT_FOUND', message: 'not found' }] })));
  return app;
}

test('API prefixes are never portal paths', () => {
  for (const p of ['/v2', '/v2/', '/v2/x/manifests/y', '/api/v2.0/projects', '/service/token?x', '/c/login', '/c', '/metrics', '/metrics?comp=core']) assert.equal(isApiPath(p), true, p);
  for (const p of ['/', '/projects', '/projects/1/repositories', '/admin/gc', '/v2x', '/cats', '/apis', '/metricsx']) assert.equal(isApiPath(p), false, p);
});

test('built portal: immutable hashed assets, no-cache index.html, SPA fallback except API paths', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-portal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Berth</title><script type="module" src="/assets/index-abc.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'index-abc.js.gz'), gzipSync('console.log(1)'));
  const app = await serve(dir);
  t.after(() => app.close());

  const root = await app.inject('/');
  assert.equal(root.statusCode, 200);
  assert.match(root.headers['content-type'] as string, /^text\/html/);
  assert.equal(root.headers['cache-control'], 'no-cache');
  assert.match(root.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
  assert.match(root.body, /<title>Berth<\/title>/);

  const asset = await app.inject('/assets/index-abc.js');
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.match(asset.headers['content-type'] as string, /javascript/);
  assert.equal(asset.body, 'console.log(1)');
  // The build's precompressed sibling is served to clients that accept gzip.
  const gz = await app.inject({ url: '/assets/index-abc.js', headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gz.statusCode, 200);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.equal(gz.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(gunzipSync(gz.rawPayload).toString(), 'console.log(1)');

  for (const p of ['/projects', '/projects/3/repositories/a%2Fb/artifacts/sha256:00', '/admin/configuration?x=1']) {
    const r = await app.inject(p);
    assert.equal(r.statusCode, 200, p);
    assert.match(r.body, /<title>Berth/, p);
    assert.equal(r.headers['cache-control'], 'no-cache');
  }
  for (const p of ['/api/v2.0/nope', '/v2/nope', '/service/nope', '/c/nope', '/assets/missing.js']) {
    const r = await app.inject(p);
    assert.equal(r.statusCode, 404, p);
    assert.doesNotMatch(r.body, /<title>/, p);
  }
  // Only GET navigations fall back.
  assert.equal((await app.inject({ method: 'POST', url: '/projects' })).statusCode, 404);
  // Path traversal out of the assets folder is refused.
  // Nothing outside the portal folder is reachable through /assets.
  writeFileSync(join(dir, 'secret.txt'), 'TOP-SECRET');
  for (const p of ['/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/assets/%2e%2e%2fsecret.txt', '/assets/../secret.txt', '/assets/%252e%252e/secret.txt']) {
    const trav = await app.inject(p);
    assert.doesNotMatch(trav.body, /TOP-SECRET/, p);
  }
});

test('portal not built: / answers 503 telling how to build it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-portal-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const app = await serve(join(dir, 'dist'));
  t.after(() => app.close());
  for (const p of ['/', '/projects', '/assets/index-abc.js']) {
    const r = await app.inject(p);
    assert.equal(r.statusCode, 503, p);
    assert.match(r.body, /npm run build:portal/);
  }
  // A build appearing later is picked up without a restart.
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>Berth</title>');
  assert.equal((await app.inject('/')).statusCode, 200);
});
