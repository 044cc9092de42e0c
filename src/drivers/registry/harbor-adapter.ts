// Harbor 2.x (and another Berth): /v2 for the content, Harbor's management API (Basic auth) to list projects and
// repositories, read labels for the info's label filter, and create the destination projects before a push.
import { DEFAULT_PATTERN, type AdapterFactory, type RegistryInfo, type RepositoryFilter, type TagState } from './adapter.ts';
import { RemoteRegistryError } from './distribution-client.ts';
import { OciAdapter } from './oci-adapter.ts';

const PAGE_SIZE = 100;

export class HarborAdapter extends OciAdapter {
  override readonly type: string = 'harbor';

  /** Every item of a paged Harbor list. */
  private async all<T>(path: string): Promise<T[]> {
    const out: T[] = [];
    for (let page = 1; page < 10_000; page++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await this.client.json<T[]>(`${path}${sep}page=${page}&page_size=${PAGE_SIZE}`, undefined, true);
      out.push(...(r.body ?? []));
      if ((r.body ?? []).length < PAGE_SIZE) break;
    }
    return out;
  }

  override async info(): Promise<RegistryInfo> {
    const base = await super.info();
    const labels = await this.all<{ name: string }>('/api/v2.0/labels?scope=g');
    return {
      ...base,
      supportedResourceFilters: [...base.supportedResourceFilters, { type: 'label', style: 'list', values: labels.map((l) => l.name) }],
    };
  }

  override async listRepositories(filter: RepositoryFilter = {}): Promise<string[]> {
    if (filter.names) return super.listRepositories(filter);
    const out: string[] = [];
    for (const p of await this.all<{ name: string }>('/api/v2.0/projects')) {
      for (const r of await this.all<{ name: string }>(`/api/v2.0/projects/${encodeURIComponent(p.name)}/repositories`))
        if (!filter.match || filter.match(r.name)) out.push(r.name);
    }
    return out;
  }

  /** Berth's anti-entropy API (GET /api/v2.0/replication/peer…); a Harbor answers 404: not a Berth. */
  private async peer<T>(path: string): Promise<T> {
    try {
      return (await this.client.json<T>(`/api/v2.0/replication/peer${path}`, undefined, true)).body;
    } catch (e) {
      if (e instanceof RemoteRegistryError && e.status === 404) throw new RemoteRegistryError(404, 'NOT_BERTH', 'the peer has no anti-entropy API (anti-entropy needs a Berth peer)');
      throw e;
    }
  }
  async instanceId(): Promise<string> {
    return (await this.peer<{ instance_id: string }>('')).instance_id;
  }
  async tagHashes(): Promise<Map<string, string>> {
    return new Map((await this.peer<{ repository: string; hash: string }[]>('/tag-hashes')).map((r) => [r.repository, r.hash]));
  }
  async tagStates(repo: string): Promise<TagState[]> {
    const rows = await this.peer<{ tag: string; digest: string; push_time: number }[]>(`/tags?repository=${encodeURIComponent(repo)}`);
    return rows.map((r) => ({ tag: r.tag, digest: r.digest, pushTime: Number(r.push_time) }));
  }

  /** Harbor's DELETE …/artifacts/{digest}/tags/{tag}; a tag (or artifact) already gone is fine. */
  async tagDelete(repo: string, tag: string, digest: string): Promise<void> {
    const i = repo.indexOf('/');
    const project = encodeURIComponent(repo.slice(0, i));
    const name = encodeURIComponent(encodeURIComponent(repo.slice(i + 1)));
    const res = await this.client.send('DELETE', `/api/v2.0/projects/${project}/repositories/${name}/artifacts/${digest}/tags/${encodeURIComponent(tag)}`, { basic: true, ok: [200, 404] });
    res.body.resume();
  }

  /** Creates the projects the repositories live in (private), as Harbor's PrepareForPush; an existing one is fine. */
  override async prepareForPush(repos: string[]): Promise<void> {
    const projects = new Set<string>();
    for (const r of repos) {
      const i = r.indexOf('/');
      if (i <= 0) throw new RemoteRegistryError(0, 'NAME_INVALID', `the repository ${r} has no project (Harbor needs project/name)`);
      projects.add(r.slice(0, i));
    }
    for (const name of projects) {
      const head = await this.client.send('HEAD', `/api/v2.0/projects?project_name=${encodeURIComponent(name)}`, { basic: true, ok: [200, 404] });
      head.body.resume();
      if (head.status === 200) continue;
      const res = await this.client.send('POST', '/api/v2.0/projects', {
        basic: true,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ project_name: name, metadata: { public: 'false' } })),
        ok: [201, 409],
      });
      res.body.resume();
    }
  }
}

export const harborAdapterFactory: AdapterFactory = {
  type: 'harbor',
  create: (e, d) => new HarborAdapter(e, d),
  pattern: DEFAULT_PATTERN,
};
