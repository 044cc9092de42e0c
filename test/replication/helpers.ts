// Shared steps of the replication tests: waiting for an execution, and reading manifests at a peer.
import assert from 'node:assert/strict';
import type { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';

export const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json';

/** Polls until the execution is no longer InProgress (bounded); returns Harbor's execution object. */
export async function waitExecution(api: ApiClient, id: number, timeoutMs = 40_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await api.call('GET', `/replication/executions/${id}`);
    assert.equal(r.status, 200, r.text);
    const e = r.json();
    if (e.status !== 'InProgress') return e;
    if (Date.now() > end) assert.fail(`execution ${id} still InProgress: ${r.text}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** Polls a condition (bounded). */
export async function eventually(what: string, f: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** The manifest bytes at a registry (null when absent). */
export async function manifestAt(reg: RegistryClient, repo: string, ref: string): Promise<Buffer | null> {
  const r = await reg.request('GET', `/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  // 401: Berth names no repository of a project that does not exist (as Harbor); absent either way.
  if (r.status === 404 || r.status === 401) return null;
  assert.equal(r.status, 200, r.text());
  return r.body;
}

export async function startReplication(api: ApiClient, policyId: number): Promise<number> {
  const r = await api.call('POST', '/replication/executions', { policy_id: policyId });
  assert.equal(r.status, 201, r.text);
  return Number(r.headers.get('location')!.split('/').pop());
}

export async function createPolicy(api: ApiClient, body: Record<string, unknown>): Promise<number> {
  const r = await api.call('POST', '/replication/policies', body);
  assert.equal(r.status, 201, r.text);
  return Number(r.headers.get('location')!.split('/').pop());
}

export async function createEndpoint(api: ApiClient, body: Record<string, unknown>): Promise<number> {
  const r = await api.call('POST', '/registries', body);
  assert.equal(r.status, 201, r.text);
  return Number(r.headers.get('location')!.split('/').pop());
}
