// Shared bits of the real-client tests against Berth (test/clients/*.test.ts).
// Reads go straight to Berth's /v2 API with Basic admin credentials, so every client's result
// is checked against what Berth itself stores and serves.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { Berth } from '../helpers/berth.ts';
import { httpGet, sha256 } from '../helpers/clients.ts';
import type { RegistryTarget } from '../helpers/clients.ts';

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const ACCEPT_ALL = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

/** What the clients log in as: Berth's admin, plain HTTP on loopback. */
export function berthTarget(berth: Berth): RegistryTarget {
  return { host: berth.host, creds: { username: berth.adminUser, password: berth.adminPassword }, plainHttp: true };
}

export function basicAuth(berth: Berth): Record<string, string> {
  return { Authorization: 'Basic ' + Buffer.from(`${berth.adminUser}:${berth.adminPassword}`).toString('base64') };
}

export interface ServedManifest {
  digest: string;
  body: Buffer;
  json: any;
  type: string;
}

/** GET a manifest from Berth (admin Basic auth); checks Docker-Content-Digest against the body. */
export async function berthManifest(berth: Berth, repo: string, ref: string): Promise<ServedManifest> {
  const r = await httpGet(`${berth.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT_ALL, ...basicAuth(berth) } });
  assert.equal(r.status, 200, `GET manifest ${repo}:${ref} -> ${r.status} ${r.body.toString()}`);
  const digest = sha256(r.body);
  assert.equal(r.headers['docker-content-digest'], digest, 'Docker-Content-Digest matches the body');
  if (ref.startsWith('sha256:')) assert.equal(digest, ref);
  return { digest, body: r.body, json: JSON.parse(r.body.toString('utf8')), type: String(r.headers['content-type']) };
}

/** Status of GET manifest (no assertion), for "deleted" / "absent" checks. */
export async function berthManifestStatus(berth: Berth, repo: string, ref: string): Promise<number> {
  return (await httpGet(`${berth.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT_ALL, ...basicAuth(berth) } })).status;
}

/** GET a blob from Berth; asserts the bytes hash to the digest. */
export async function berthBlob(berth: Berth, repo: string, digest: string): Promise<Buffer> {
  const r = await httpGet(`${berth.url}/v2/${repo}/blobs/${digest}`, { headers: basicAuth(berth) });
  assert.equal(r.status, 200, `GET blob ${repo}@${digest} -> ${r.status} ${r.body.toString().slice(0, 300)}`);
  assert.equal(sha256(r.body), digest, `blob ${digest} bytes hash to their digest`);
  return r.body;
}

/** Tags Berth lists for a repository. */
export async function berthTags(berth: Berth, repo: string): Promise<string[]> {
  const r = await httpGet(`${berth.url}/v2/${repo}/tags/list`, { headers: basicAuth(berth) });
  assert.equal(r.status, 200, `GET tags ${repo} -> ${r.status} ${r.body.toString()}`);
  return (JSON.parse(r.body.toString('utf8')) as { tags: string[] | null }).tags ?? [];
}

export function assertSameFiles(actual: Record<string, Buffer>, expected: Record<string, Buffer>, what: string): void {
  assert.ok(Object.keys(expected).length > 0, `${what}: nothing to compare`);
  for (const [path, bytes] of Object.entries(expected)) {
    assert.ok(actual[path], `${what}: ${path} missing (have ${Object.keys(actual).join(', ')})`);
    assert.ok(actual[path].equals(bytes), `${what}: ${path} differs`);
  }
}

/** On failure, the tail of Berth's output helps more than the client's message alone. */
export function berthTail(berth: Berth | undefined, n = 4000): string {
  const out = berth?.output() ?? '';
  return out.length > n ? '…' + out.slice(-n) : out;
}

export interface RecordedRequest {
  method: string;
  /** path + query, as the client sent it */
  url: string;
  status: number;
  /** the request's Content-Type (token POSTs carry a form) */
  contentType: string;
}

export interface RecordingProxy {
  /** host:port the clients talk to */
  host: string;
  requests: RecordedRequest[];
  close: () => Promise<void>;
}

/**
 * A transparent HTTP proxy in front of Berth on another loopback port that records every request
 * (method, url, status). Host is passed through unchanged, so Berth's token realm (derived from Host)
 * points back at the proxy and token requests are recorded too. Bodies are streamed both ways.
 */
export async function startRecordingProxy(berth: Berth): Promise<RecordingProxy> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const up = httpRequest(
      { host: '127.0.0.1', port: berth.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', status: ur.statusCode ?? 0, contentType: String(req.headers['content-type'] ?? '') });
        res.writeHead(ur.statusCode ?? 502, ur.rawHeaders);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Fails when Berth logged anything at error level or above (every 5xx is logged as 'request failed'). */
export function assertNoBerthErrors(berth: Berth | undefined): void {
  if (!berth) return;
  const bad = berth
    .output()
    .split('\n')
    .filter((l) => {
      try {
        return (JSON.parse(l) as { level?: number }).level! >= 50;
      } catch {
        return false;
      }
    });
  assert.deepEqual(bad, [], `Berth logged errors:\n${bad.join('\n')}`);
}
