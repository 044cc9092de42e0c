// Shared setup of the /v2 protocol tests: one Berth per test file, an admin client in token mode, and an
// after-hook that fails the file if any response was a 5xx or the server logged an unexpected error.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth, type StartOptions } from '../helpers/berth.ts';
import { RegistryClient, assertNoServerErrors, type RegistryResponse } from '../helpers/registry-client.ts';

export interface Fixture {
  berth: Berth;
  /** admin, token mode */
  admin: RegistryClient;
  /** admin, Basic on every request */
  basic: RegistryClient;
  /** no credentials, token mode (anonymous tokens) */
  anon: RegistryClient;
}

/**
 * Registers before/after hooks; the returned object is filled in by `before`, which then runs `setup` (use it
 * instead of a second top-level `before`, whose order relative to this one is not guaranteed).
 */
export function useBerth(opts: StartOptions = {}, setup?: (f: Fixture) => Promise<void>): Fixture {
  const f = {} as Fixture;
  before(async () => {
    f.berth = await startBerth(opts);
    f.admin = new RegistryClient({ baseUrl: f.berth.url, username: f.berth.adminUser, password: f.berth.adminPassword });
    f.basic = f.admin.with({ auth: 'basic' });
    f.anon = new RegistryClient({ baseUrl: f.berth.url });
    if (setup) await setup(f);
  });
  after(async () => {
    const out = f.berth?.output() ?? '';
    await f.berth?.stop();
    assertNoServerErrors();
    assert.doesNotMatch(out, /request failed|"level":50|"level":60/, `server logged errors:\n${out.slice(-4000)}`);
  });
  return f;
}

/** A fresh repository name in `library` (tests never share repositories). */
export const repoName = (prefix = 'r'): string => `library/${prefix}-${randomBytes(4).toString('hex')}`;

/** Asserts status and, for errors, the OCI code; shows the whole response on failure. */
export function expectStatus(r: RegistryResponse, status: number, code?: string): void {
  assert.equal(r.status, status, String(r));
  if (code !== undefined) assert.ok(r.errorCodes().includes(code), `expected ${code}:\n${r}`);
}
