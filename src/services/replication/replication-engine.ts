// The transfer engine: a REPLICATION execution's first task (the planner) lists the source through its adapter,
// applies the policy's filters and adds one REPLICATION_COPY task per artifact (repository + digest + its tags)
// to the same execution; each copy task streams registry to registry. Order per artifact: an index's children
// first, then per manifest the blobs the destination lacks (HEAD → streamed GET/PUT, bounded memory, chunked
// when copy_by_chunk), the manifest last (the destination never shows a half-copied artifact), then the tags,
// then the accessories (cosign `sha256-<hex>.sig/.att/.sbom` tags and OCI 1.1 referrers). Retries come from the
// job service; stop aborts the task's signal, which destroys the streams in flight.
import { createHash } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import type { Descriptor, ManifestPutOptions, RegistryAdapter, TagState } from '../../drivers/registry/adapter.ts';
import type { ReplicationFilter, ReplicationPolicyRow } from '../../repositories/replication-policy-repository.ts';
import { PermanentJobError, type JobContext } from '../jobs/job-service.ts';
import { doublestar } from '../artifact/doublestar.ts';

export const REPLICATION_JOB = 'REPLICATION';
export const REPLICATION_COPY_JOB = 'REPLICATION_COPY';

/** What a copy (or deletion) task carries. */
export interface CopyParams {
  policy_id: number;
  src_repo: string;
  dst_repo: string;
  digest: string;
  tags: string[];
  operation: 'copy' | 'deletion';
  /** Deletion of one or more tags only (a DELETE_TAG event), not of the artifact. */
  tag_only?: boolean;
  /** Other destination repositories of the same project, to mount blobs from before copying them. */
  siblings?: string[];
  /** Anti-entropy: 'pull' copies from the policy's destination into the local registry (the other direction). */
  direction?: 'push' | 'pull';
  /** The source's push time of each tag (carried to a Berth destination; anti-entropy's conflict rule). */
  push_times?: Record<string, number>;
  /** The instance id the artifact was first pushed to (loop prevention), sent with every manifest PUT. */
  origin?: string;
}

/** Label names of a local artifact (replication's label filter). */
export type LabelLookup = (repo: string, digest: string) => Promise<string[]>;

/**
 * Anti-entropy's cheap comparison: per repository, sha256 of its tag→digest lines in byte order. Both sides run
 * this same function over the same data, so equal maps mean equal hashes.
 */
export function tagHashes(rows: readonly { repository: string; tag: string; digest: string }[]): Map<string, string> {
  const byRepo = new Map<string, string[]>();
  for (const r of rows) {
    const l = byRepo.get(r.repository) ?? [];
    l.push(`${r.tag} ${r.digest}\n`);
    byRepo.set(r.repository, l);
  }
  const out = new Map<string, string>();
  for (const [repo, lines] of byRepo) {
    const h = createHash('sha256');
    for (const l of lines.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) h.update(l);
    out.set(repo, `sha256:${h.digest('hex')}`);
  }
  return out;
}

/**
 * The conflict rule (docs/architecture.md): the same tag on both sides with different digests — the later push
 * wins; equal push times (ms) fall back to the greater digest, so both sides decide alike.
 */
export function conflictWinner(local: TagState, remote: TagState): 'local' | 'remote' {
  if (local.pushTime !== remote.pushTime) return local.pushTime > remote.pushTime ? 'local' : 'remote';
  return local.digest > remote.digest ? 'local' : 'remote';
}

const ACCESSORY_TAG = /^sha256-[0-9a-f]{64}(\.sig|\.att|\.sbom)?$/;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);

/** Harbor's replaceNamespace (flow/stage.go): -1 keeps the legacy "namespace/last" rule; n drops n leading path components. */
export function destinationName(repo: string, namespace: string, replaceCount: number): string {
  if (!namespace) return repo;
  const parts = repo.split('/');
  const last = parts[parts.length - 1]!;
  if (replaceCount < 0) return `${namespace}/${last}`;
  if (replaceCount > parts.length - 1)
    throw new PermanentJobError(
      `the source repository "${repo}" contains only ${parts.length - 1} path components [${parts.slice(0, -1).join(' ')}] excepting the last one, but the destination namespace flattening level is ${replaceCount}`,
    );
  return [namespace, ...parts.slice(replaceCount, -1), last].join('/');
}

/** The name/tag filters as predicates (Harbor's doublestar patterns; `decoration: excludes` inverts a tag filter). */
export function compileFilters(filters: readonly ReplicationFilter[]): {
  name: (n: string) => boolean;
  tag: (t: string) => boolean;
  /** Harbor's artifactLabelFilter: carries all the labels (`excludes`: not all of them); null without label filters. */
  labels: ((have: readonly string[]) => boolean) | null;
} {
  const names: ((n: string) => boolean)[] = [];
  const tags: ((t: string) => boolean)[] = [];
  const labels: ((have: readonly string[]) => boolean)[] = [];
  for (const f of filters) {
    if (f.type === 'label' && Array.isArray(f.value) && f.value.length) {
      const want = f.value as string[];
      const all = (have: readonly string[]) => want.every((l) => have.includes(l));
      labels.push(f.decoration === 'excludes' ? (h) => !all(h) : all);
      continue;
    }
    const v = typeof f.value === 'string' ? f.value : '';
    if (!v) continue;
    if (f.type === 'name') {
      const m = doublestar(v);
      names.push(f.decoration === 'excludes' ? (n) => !m(n) : m);
    } else if (f.type === 'tag') {
      const m = doublestar(v);
      tags.push(f.decoration === 'excludes' ? (t) => !m(t) : m);
    }
  }
  return { name: (n) => names.every((m) => m(n)), tag: (t) => tags.every((m) => m(t)), labels: labels.length ? (h) => labels.every((m) => m(h)) : null };
}

/** Throttles a stream to `kbps` KB/s (Harbor's speed); also ends it when the task is stopped. */
function throttle(kbps: number, signal: AbortSignal): Transform {
  const rate = kbps > 0 ? kbps * 1024 : 0;
  const started = Date.now();
  let sent = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (signal.aborted) return done(new Error('replication stopped'));
      sent += chunk.length;
      const wait = rate ? (sent / rate) * 1000 - (Date.now() - started) : 0;
      if (wait > 0) setTimeout(() => done(signal.aborted ? new Error('replication stopped') : null, chunk), wait);
      else done(null, chunk);
    },
  });
}

export interface EngineDeps {
  policy: (id: number) => Promise<ReplicationPolicyRow | null>;
  /** The adapter of a registry id (0 = the local registry); the caller closes it. */
  adapter: (registryId: number) => Promise<RegistryAdapter>;
  addTasks: (executionId: number, params: CopyParams[]) => Promise<void>;
  /** Whether another execution of the policy is still running (single_active_replication). */
  othersActive: (policyId: number, executionId: number) => Promise<boolean>;
  /** This instance's id (loop prevention). */
  instanceId: () => Promise<string>;
  /** Remembers a Berth peer's instance id (the event subscriber then skips what came from it). */
  learnPeer: (registryId: number, instanceId: string) => void;
  labels?: LabelLookup;
}

/** The Berth peer's instance id, or null when the destination is not a Berth (or cannot say). */
async function peerInstance(d: EngineDeps, registryId: number, a: RegistryAdapter): Promise<string | null> {
  if (!a.instanceId) return null;
  const id = await a.instanceId().catch(() => null);
  if (id) d.learnPeer(registryId, id);
  return id;
}

/** The planner: lists, filters, and queues the copy tasks of the execution. */
export async function planExecution(d: EngineDeps, ctx: JobContext): Promise<Record<string, unknown>> {
  const p = ctx.params as { policy_id: number; deletion?: CopyParams[]; only?: { repo: string; digest: string; tags: string[]; origin?: string } };
  const policy = await d.policy(p.policy_id);
  if (!policy) throw new PermanentJobError(`policy ${p.policy_id} not found`);
  // Scheduled and event-based runs are skipped while another one of the policy is active (manual ones get 412).
  if (policy.singleActiveReplication && (await d.othersActive(policy.id, ctx.executionId))) {
    ctx.log('skipped: another execution of this policy is in progress (single_active_replication)');
    return {};
  }
  // An event already says what to do (push of one artifact, or a deletion).
  if (p.deletion) {
    await d.addTasks(ctx.executionId, p.deletion);
    return {};
  }
  const f = compileFilters(policy.filters);
  if (policy.mode === 'anti-entropy' && !p.only) return antiEntropy(d, ctx, policy);
  // Loop prevention: an artifact that arrived by replication from the destination is not sent back there.
  if (p.only?.origin) {
    const dst = await d.adapter(policy.destRegistryId);
    try {
      if ((await peerInstance(d, policy.destRegistryId, dst)) === p.only.origin) {
        ctx.log(`skipped: ${p.only.repo}@${p.only.digest} arrived by replication from the destination; not sent back`);
        return {};
      }
    } finally {
      dst.close();
    }
  }
  const origin = p.only?.origin ?? (policy.srcRegistryId === 0 ? await d.instanceId() : undefined);
  const labelled = async (repo: string, digest: string) => !f.labels || !d.labels || policy.srcRegistryId !== 0 || f.labels(await d.labels(repo, digest));
  const src = await d.adapter(policy.srcRegistryId);
  try {
    const tasks: CopyParams[] = [];
    const all = p.only ? [p.only.repo] : await src.listRepositories();
    const repos = p.only ? all : all.filter(f.name);
    const projectOf = (r: string) => r.split('/')[0]!;
    // Mount candidates: the destination names of the source project's other repositories (they may hold the blob).
    const siblingsOf = (repo: string): string[] => {
      const out: string[] = [];
      for (const r of all) {
        if (r === repo || projectOf(r) !== projectOf(repo) || out.length >= 8) continue;
        try {
          out.push(destinationName(r, policy.destNamespace, policy.destNamespaceReplaceCount));
        } catch {}
      }
      return out;
    };
    for (const repo of repos) {
      ctx.signal.throwIfAborted();
      const dst = destinationName(repo, policy.destNamespace, policy.destNamespaceReplaceCount);
      const byDigest = new Map<string, string[]>();
      const tags = p.only ? p.only.tags : await src.listTags(repo);
      for (const tag of tags) {
        // Listing: accessories travel with their subject. An event for a signature pushed later copies it itself.
        if (p.only ? !ACCESSORY_TAG.test(tag) && !f.tag(tag) : ACCESSORY_TAG.test(tag) || !f.tag(tag)) continue;
        const h = await src.manifestHead(repo, tag);
        if (!h) continue;
        const list = byDigest.get(h.digest) ?? [];
        list.push(tag);
        byDigest.set(h.digest, list);
      }
      if (p.only && !tags.length && f.tag('')) byDigest.set(p.only.digest, []);
      const siblings = siblingsOf(repo).filter((r) => r !== dst);
      for (const [digest, t] of byDigest) {
        if (!(await labelled(repo, digest))) continue;
        tasks.push({ policy_id: policy.id, src_repo: repo, dst_repo: dst, digest, tags: t, operation: 'copy', siblings, ...(origin ? { origin } : {}) });
      }
    }
    ctx.log(`${tasks.length} artifact(s) to replicate`);
    await d.addTasks(ctx.executionId, tasks);
    return {};
  } finally {
    src.close();
  }
}

/**
 * One anti-entropy cycle (docs/architecture.md): compares the two sides by per-repository tag hashes, walks only
 * the repositories whose hash differs, and queues a copy for every tag missing on one side or lost there by the
 * conflict rule — in either direction. Deletions are not propagated (a tag deleted on one side during a
 * partition comes back from the other). Equal sides queue nothing, so a second cycle copies nothing.
 */
async function antiEntropy(d: EngineDeps, ctx: JobContext, policy: ReplicationPolicyRow): Promise<Record<string, unknown>> {
  const f = compileFilters(policy.filters);
  const local = await d.adapter(policy.srcRegistryId);
  const remote = await d.adapter(policy.destRegistryId);
  try {
    if (!local.tagHashes || !local.tagStates || !remote.tagHashes || !remote.tagStates) throw new PermanentJobError('anti-entropy needs a Berth peer');
    const [lh, rh] = await Promise.all([local.tagHashes(), remote.tagHashes()]);
    const [li, ri] = await Promise.all([local.instanceId!(), peerInstance(d, policy.destRegistryId, remote)]);
    const repos = [...new Set([...lh.keys(), ...rh.keys()])].filter(f.name).sort();
    const tasks: CopyParams[] = [];
    let walked = 0;
    for (const repo of repos) {
      ctx.signal.throwIfAborted();
      if (lh.get(repo) === rh.get(repo)) continue;
      walked++;
      const [ls, rs] = await Promise.all([lh.has(repo) ? local.tagStates(repo) : [], rh.has(repo) ? remote.tagStates(repo) : []]);
      const lm = new Map(ls.map((t) => [t.tag, t]));
      const rm = new Map(rs.map((t) => [t.tag, t]));
      // (direction, digest) → tags with their push times.
      const groups = new Map<string, CopyParams>();
      const add = (direction: 'push' | 'pull', t: TagState) => {
        const key = `${direction} ${t.digest}`;
        const g = groups.get(key) ?? { policy_id: policy.id, src_repo: repo, dst_repo: repo, digest: t.digest, tags: [], operation: 'copy' as const, direction, push_times: {}, origin: direction === 'push' ? li : (ri ?? undefined) };
        g.tags.push(t.tag);
        g.push_times![t.tag] = t.pushTime;
        groups.set(key, g);
      };
      for (const tag of new Set([...lm.keys(), ...rm.keys()])) {
        // Accessory tags (sha256-<hex>.sig …) follow their subject whatever the tag filter says.
        if (!ACCESSORY_TAG.test(tag) && !f.tag(tag)) continue;
        const l = lm.get(tag);
        const r = rm.get(tag);
        if (l && r && l.digest === r.digest) continue;
        if (l && (!r || conflictWinner(l, r) === 'local')) {
          if (r) ctx.log(`conflict on ${repo}:${tag}: local ${l.digest} (pushed ${new Date(l.pushTime).toISOString()}) wins over ${r.digest} (${new Date(r.pushTime).toISOString()})`);
          add('push', l);
        } else if (r) {
          if (l) ctx.log(`conflict on ${repo}:${tag}: remote ${r.digest} (pushed ${new Date(r.pushTime).toISOString()}) wins over ${l.digest} (${new Date(l.pushTime).toISOString()})`);
          add('pull', r);
        }
      }
      for (const g of groups.values()) {
        if (g.direction === 'push' && f.labels && d.labels && !f.labels(await d.labels(repo, g.digest))) continue;
        tasks.push(g);
      }
    }
    ctx.log(`anti-entropy: ${repos.length} repositories compared, ${walked} differing walked, ${tasks.length} artifact(s) to copy`);
    await d.addTasks(ctx.executionId, tasks);
    return { compared: repos.length, walked };
  } finally {
    local.close();
    remote.close();
  }
}

/** One copy or deletion task. */
export async function runCopy(d: EngineDeps, ctx: JobContext): Promise<void> {
  const t = ctx.params as unknown as CopyParams;
  const policy = await d.policy(t.policy_id);
  if (!policy) throw new PermanentJobError(`policy ${t.policy_id} not found`);
  const dst = await d.adapter(policy.destRegistryId);
  try {
    if (t.operation === 'deletion') {
      if (t.tag_only) {
        // A tag delete removes that tag only (Harbor's tag API); a registry without one keeps the artifact.
        for (const tag of t.tags) {
          if (dst.tagDelete) {
            await dst.tagDelete(t.dst_repo, tag, t.digest);
            ctx.log(`deleted tag ${t.dst_repo}:${tag}`);
          } else ctx.log(`tag ${t.dst_repo}:${tag} kept: the ${dst.type} destination cannot delete a tag alone`);
        }
        return;
      }
      await dst.manifestDelete(t.dst_repo, t.digest);
      ctx.log(`deleted ${t.dst_repo}@${t.digest}`);
      return;
    }
    const src = await d.adapter(policy.srcRegistryId);
    try {
      // Anti-entropy's pull direction: the policy's destination is the source of this copy.
      const [from, to] = t.direction === 'pull' ? [dst, src] : [src, dst];
      await to.prepareForPush([t.dst_repo]);
      let pushTimes = t.push_times;
      // Carry the source's push times when it can tell them (a Berth): the destination records them as its own.
      if (!pushTimes && t.tags.length && from.tagStates) {
        const states = await from.tagStates(t.src_repo).catch(() => [] as TagState[]);
        pushTimes = Object.fromEntries(states.filter((s) => t.tags.includes(s.tag) && s.digest === t.digest).map((s) => [s.tag, s.pushTime]));
      }
      // The conflict rule decided the winner already: anti-entropy overwrites whatever `override` says.
      const p = policy.mode === 'anti-entropy' ? { ...policy, override: true } : policy;
      const c = new Copier(from, to, t.src_repo, t.dst_repo, p, ctx, t.siblings ?? [], { pushTimes: pushTimes ?? {}, ...(t.origin ? { origin: t.origin } : {}) });
      await c.artifact(t.digest, t.tags);
    } finally {
      src.close();
    }
  } finally {
    dst.close();
  }
}

class Copier {
  private readonly done = new Set<string>();
  /** Manifest digests copied by artifact() itself, in order (accessories are looked up for each). */
  private readonly manifests: string[] = [];
  private collecting = true;
  private readonly src: RegistryAdapter;
  private readonly dst: RegistryAdapter;
  private readonly srcRepo: string;
  private readonly dstRepo: string;
  private readonly policy: ReplicationPolicyRow;
  private readonly ctx: JobContext;
  private readonly siblings: string[];
  private readonly side: { pushTimes: Record<string, number>; origin?: string };
  constructor(
    src: RegistryAdapter,
    dst: RegistryAdapter,
    srcRepo: string,
    dstRepo: string,
    policy: ReplicationPolicyRow,
    ctx: JobContext,
    siblings: string[],
    side: { pushTimes: Record<string, number>; origin?: string } = { pushTimes: {} },
  ) {
    this.siblings = siblings;
    this.side = side;
    this.src = src;
    this.dst = dst;
    this.srcRepo = srcRepo;
    this.dstRepo = dstRepo;
    this.policy = policy;
    this.ctx = ctx;
  }

  /** The side channel of a manifest PUT: the origin always, the source's push time for a tag. */
  private putOpts(tag?: string): ManifestPutOptions {
    const t = tag !== undefined ? this.side.pushTimes[tag] : undefined;
    return { ...(this.side.origin ? { origin: this.side.origin } : {}), ...(t ? { pushTime: t } : {}) };
  }

  async artifact(digest: string, tags: string[]): Promise<void> {
    const m = await this.manifest(digest);
    this.collecting = false;
    for (const tag of tags) {
      this.ctx.signal.throwIfAborted();
      const there = await this.dst.manifestHead(this.dstRepo, tag);
      // Already there: writing it again would raise a push event at the destination for nothing (and, between
      // two masters with event-based policies, one more round trip).
      if (there?.digest === digest) {
        this.ctx.log(`tag ${this.dstRepo}:${tag} already names ${digest}`);
        continue;
      }
      if (!this.policy.override && there) {
        this.ctx.log(`skip tag ${tag}: it exists at the destination with ${there.digest} and override is off`);
        continue;
      }
      await this.dst.manifestPut(this.dstRepo, tag, m.bytes, m.mediaType, this.putOpts(tag));
      this.ctx.log(`tagged ${this.dstRepo}:${tag}`);
    }
    // Accessories of every manifest copied (a referrer often points at an index's child, not the index).
    for (const d of [...this.manifests]) await this.accessories(d);
  }

  /** Cosign tags (`sha256-<hex>.sig` …) and OCI referrers of a digest, recursively (a signature's own signature). */
  private async accessories(digest: string): Promise<void> {
    const hex = digest.split(':')[1]!;
    for (const suffix of ['.sig', '.att', '.sbom']) {
      const tag = `sha256-${hex}${suffix}`;
      const h = await this.src.manifestHead(this.srcRepo, tag);
      if (!h) continue;
      const m = await this.manifest(h.digest);
      if ((await this.dst.manifestHead(this.dstRepo, tag))?.digest === h.digest) continue;
      await this.dst.manifestPut(this.dstRepo, tag, m.bytes, m.mediaType, this.putOpts(tag));
      this.ctx.log(`accessory ${tag} copied`);
    }
    const refs = await this.src.listReferrers(this.srcRepo, digest);
    for (const r of refs) {
      if (this.done.has(r.digest)) continue;
      await this.manifest(r.digest);
      this.ctx.log(`referrer ${r.digest} copied`);
      await this.accessories(r.digest);
    }
    if (refs.length) await this.referrersFallback(digest, refs);
  }

  /**
   * A destination without the referrers API (Distribution 2.8) lists nothing for a subject: as a 1.1 client does,
   * maintain the `sha256-<hex>` index of the referrers there (merged with what it already lists).
   */
  private async referrersFallback(digest: string, refs: Descriptor[]): Promise<void> {
    const there = await this.dst.listReferrers(this.dstRepo, digest);
    const have = new Set(there.map((d) => d.digest));
    const missing = refs.filter((r) => !have.has(r.digest));
    if (!missing.length) return;
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...there, ...missing] }));
    await this.dst.manifestPut(this.dstRepo, digest.replace(':', '-'), index, OCI_INDEX, this.putOpts());
    this.ctx.log(`referrers of ${digest} indexed at the destination (fallback tag)`);
  }

  /** Copies a manifest by digest with everything it references; the manifest itself goes last. */
  private async manifest(digest: string): Promise<{ bytes: Buffer; mediaType: string }> {
    this.ctx.signal.throwIfAborted();
    const m = await this.src.manifestGet(this.srcRepo, digest);
    if (!m) throw new PermanentJobError(`manifest ${digest} of ${this.srcRepo} not found at the source`);
    if (this.done.has(digest)) return m;
    // Manifests go last, so one present at the destination has everything it references there already.
    if (await this.dst.manifestHead(this.dstRepo, digest)) {
      this.done.add(digest);
      if (this.collecting) this.manifests.push(digest);
      if (INDEX_TYPES.has(m.mediaType) && this.collecting)
        for (const c of (JSON.parse(m.bytes.toString('utf8')) as { manifests?: { digest: string }[] }).manifests ?? []) this.manifests.push(c.digest);
      return m;
    }
    const doc = JSON.parse(m.bytes.toString('utf8')) as {
      mediaType?: string;
      manifests?: { digest: string }[];
      config?: { digest: string; size: number };
      layers?: { digest: string; size: number; urls?: string[] }[];
    };
    if (INDEX_TYPES.has(m.mediaType) || Array.isArray(doc.manifests)) {
      for (const child of doc.manifests ?? []) await this.manifest(child.digest);
    } else {
      const blobs = [...(doc.config ? [doc.config] : []), ...(doc.layers ?? []).filter((l) => !l.urls?.length)];
      for (const b of blobs) await this.blob(b.digest, b.size);
    }
    await this.dst.manifestPut(this.dstRepo, digest, m.bytes, m.mediaType, this.putOpts());
    this.done.add(digest);
    if (this.collecting) this.manifests.push(digest);
    this.ctx.log(`manifest ${digest} copied`);
    return m;
  }

  private async blob(digest: string, size: number): Promise<void> {
    if (this.done.has(digest) || (await this.dst.blobExists(this.dstRepo, digest))) return;
    this.ctx.signal.throwIfAborted();
    // Another repository of the project at the destination may have it: a mount moves no bytes.
    for (const from of this.siblings) {
      if (!(await this.dst.blobExists(from, digest).catch(() => false))) continue;
      if (await this.dst.blobMount(this.dstRepo, digest, from).catch(() => false)) {
        this.done.add(digest);
        this.ctx.log(`blob ${digest} mounted from ${from}`);
        return;
      }
    }
    const got = await this.src.blobGet(this.srcRepo, digest);
    if (!got) throw new PermanentJobError(`blob ${digest} of ${this.srcRepo} not found at the source`);
    const signal = this.ctx.signal;
    const limited: Readable = got.stream.pipe(throttle(this.policy.speed, signal));
    const abort = () => {
      got.stream.destroy(new Error('replication stopped'));
      limited.destroy(new Error('replication stopped'));
    };
    signal.addEventListener('abort', abort, { once: true });
    try {
      got.stream.on('error', (e) => limited.destroy(e));
      await this.dst.blobPut(this.dstRepo, digest, limited, got.size >= 0 ? got.size : size, this.policy.copyByChunk ? { chunkSize: 10 * 1024 * 1024 } : {});
    } finally {
      signal.removeEventListener('abort', abort);
    }
    this.done.add(digest);
    this.ctx.log(`blob ${digest} copied (${size} bytes)`);
  }
}

