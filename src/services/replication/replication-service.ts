// Replication policies, executions and tasks (Harbor's `replication` tag, controller/replication), the
// `replication` event subscriber and the REPLICATION/REPLICATION_COPY job types. Registry id 0 is the local
// registry. The local side is reached through an OciAdapter on Berth's own /v2 with tokens signed in-process
// (no password anywhere): every write then takes the same path as a push — quota, immutability, events (so
// A → B → C chains trigger again) — at the cost of loopback HTTP.
import type { Queryable } from '../../db/db.ts';
import type { DomainEvent, Subscriber } from '../../events.ts';
import { ApiErrors } from '../../errors.ts';
import type { RegistryAdapter } from '../../drivers/registry/adapter.ts';
import { OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import { OciAdapter } from '../../drivers/registry/oci-adapter.ts';
import type { ReplicationFilter, ReplicationPolicyRepository, ReplicationPolicyRow, NewReplicationPolicy } from '../../repositories/replication-policy-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { Execution, JobService, Task } from '../jobs/job-service.ts';
import { validateSchedule } from '../jobs/schedule-spec.ts';
import type { AuthService } from '../auth/auth-service.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { RegistryService } from './registry-service.ts';
import { isValidPattern } from '../artifact/doublestar.ts';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { TagState } from '../../drivers/registry/adapter.ts';
import { compileFilters, destinationName, planExecution, REPLICATION_COPY_JOB, REPLICATION_JOB, runCopy, tagHashes, type CopyParams, type LabelLookup } from './replication-engine.ts';

type Fields = Record<string, unknown>;

export interface ReplicationDeps {
  repo: ReplicationPolicyRepository;
  /** The local tags with digests and push times (anti-entropy), of one repository or all. */
  tagStates: (repo?: string) => Promise<{ repository: string; tag: string; digest: string; pushTime: number }[]>;
  /** The local labels of artifacts (label filters), by repository and digest; absent: label filters match nothing. */
  labels?: LabelLookup;
  registries: RegistryService;
  repositories: RepositoryRepository;
  jobs: JobService;
  auth: AuthService;
  guard: OutboundGuard;
  audit: AuditSink;
  maxAttempts: number;
  retryDelayMs: number;
  /** Creates a local project when it is missing (pull-based replication into Berth, as Harbor's PrepareForPush). */
  ensureProject: (name: string) => Promise<void>;
  /**
   * Reads a blob linked in a local repository straight from storage (null when not linked). Without it the local
   * side's bytes come through our own /v2 — the same process then serves and relays every byte over loopback.
   */
  readBlob?: (repo: string, digest: string) => Promise<{ size: number; stream: Readable } | null>;
  /** The system admin whose in-process tokens the local adapter uses. */
  localAdmin: () => Promise<{ id: number; username: string }>;
}

const TRIGGERS = new Set(['manual', 'scheduled', 'event_based']);
const FILTER_TYPES = new Set(['name', 'tag', 'label', 'resource']);
/** Berth's policy modes: '' is Harbor's one-way replication. */
export const ANTI_ENTROPY = 'anti-entropy';

interface LocalExtras {
  names: () => Promise<string[]>;
  ensureProject: (name: string) => Promise<void>;
  instanceId: () => Promise<string>;
  tagStates: ReplicationDeps['tagStates'];
  readBlob?: ReplicationDeps['readBlob'];
}

class LocalAdapter extends OciAdapter {
  override readonly type = 'local';
  private readonly names: () => Promise<string[]>;
  private readonly ensureProject: (name: string) => Promise<void>;
  private readonly x: LocalExtras;
  constructor(url: string, guard: OutboundGuard, tokenFor: (scope: string) => Promise<string>, x: LocalExtras) {
    // With built-in TLS this is our own listener on loopback: its certificate names the public host (and may come
    // from a private CA), so it is not verified on this one connection to ourselves.
    super({ url, insecure: url.startsWith('https:') }, { guard, tokenFor });
    this.names = x.names;
    this.ensureProject = x.ensureProject;
    this.x = x;
  }
  // Anti-entropy reads the local side straight from the database (the peer's through its API).
  instanceId(): Promise<string> {
    return this.x.instanceId();
  }
  async tagHashes(): Promise<Map<string, string>> {
    return tagHashes(await this.x.tagStates());
  }
  async tagStates(repo: string): Promise<TagState[]> {
    return (await this.x.tagStates(repo)).map((r) => ({ tag: r.tag, digest: r.digest, pushTime: r.pushTime }));
  }
  // Reads (local = source) skip loopback HTTP: the link check is the one /v2 makes; writes keep the /v2 path.
  override async blobGet(repo: string, digest: string): Promise<{ size: number; stream: Readable } | null> {
    return this.x.readBlob ? this.x.readBlob(repo, digest) : super.blobGet(repo, digest);
  }
  override async prepareForPush(repos: string[]): Promise<void> {
    for (const p of new Set(repos.map((r) => r.split('/')[0]!))) await this.ensureProject(p);
  }
  override async listRepositories(filter: { match?: (n: string) => boolean; names?: string[] } = {}): Promise<string[]> {
    const all = filter.names ?? (await this.names());
    return all.filter((n) => !filter.match || filter.match(n));
  }
}

export class ReplicationService {
  private readonly d: ReplicationDeps;
  private localUrl = '';
  private instance: Promise<string> | null = null;
  /** Instance ids of Berth peers by registry id, learnt by executions: the subscriber skips what came from there. */
  private readonly peerIds = new Map<number, string>();

  constructor(d: ReplicationDeps) {
    this.d = d;
    // Harbor's registry controller: an endpoint a policy uses cannot be deleted.
    d.registries.onDeleteCheck(async (id) => ((await d.repo.countPoliciesUsingRegistry(id)) ? `the registry ${id} is referenced by replication policies, cannot delete it` : null));
  }

  /** The URL this process serves /v2 on (known once listening). */
  setLocalUrl(url: string): void {
    this.localUrl = url;
  }

  private async adapter(registryId: number): Promise<RegistryAdapter> {
    if (registryId !== 0) return this.d.registries.adapterFor(registryId);
    if (!this.localUrl) throw new Error('the local registry URL is not known yet');
    const a = await this.d.localAdmin();
    const admin = { kind: 'user' as const, id: a.id, username: a.username, sysadmin: true };
    const tokenFor = async (scope: string) => (await this.d.auth.issueToken(admin, scope.split(' ').filter(Boolean))).token;
    // Loopback is this process itself: allowed regardless of security.outbound_allowlist.
    const guard = new OutboundGuard({ allowlist: [new URL(this.localUrl).hostname.replace(/^\[|\]$/g, '')] });
    return new LocalAdapter(this.localUrl, guard, tokenFor, {
      names: async () => {
        const out: string[] = [];
        let last: string | null = null;
        for (;;) {
          const page = await this.d.repositories.listRepositoryNames(1000, last);
          out.push(...page);
          if (page.length < 1000) return out;
          last = page[page.length - 1]!;
        }
      },
      ensureProject: this.d.ensureProject,
      instanceId: () => this.instanceId(),
      tagStates: this.d.tagStates,
      ...(this.d.readBlob ? { readBlob: this.d.readBlob } : {}),
    });
  }

  /** This instance's id (stored once in the database, so it survives restarts). */
  instanceId(): Promise<string> {
    this.instance ??= this.d.repo.findOrCreateInstanceId(randomBytes(16).toString('hex')).catch((e: unknown) => {
      this.instance = null;
      throw e;
    });
    return this.instance;
  }

  /** The Berth-to-Berth anti-entropy API: a hash of each repository's sorted tag→digest list. */
  async peerTagHashes(): Promise<{ repository: string; hash: string }[]> {
    return [...tagHashes(await this.d.tagStates())].map(([repository, hash]) => ({ repository, hash }));
  }

  /** … and one repository's tags with digests and push times. */
  async peerTagStates(repo: string): Promise<TagState[]> {
    return (await this.d.tagStates(repo)).map((r) => ({ tag: r.tag, digest: r.digest, pushTime: r.pushTime }));
  }

  register(): void {
    const deps = { policy: (id: number) => this.d.repo.findPolicy(id), adapter: (id: number) => this.adapter(id), addTasks: (ex: number, p: CopyParams[]) => this.d.jobs.addTasks(ex, REPLICATION_COPY_JOB, p as never),
      instanceId: () => this.instanceId(),
      learnPeer: (registryId: number, id: string) => void this.peerIds.set(registryId, id),
      ...(this.d.labels ? { labels: this.d.labels } : {}),
      othersActive: async (policyId: number, ex: number) =>
        (await this.d.jobs.listExecutions({ vendorType: REPLICATION_JOB, vendorId: policyId, limit: 20 })).some((e) => e.id !== ex && e.status === 'Running'),
    };
    this.d.jobs.register(REPLICATION_JOB, (ctx) => planExecution(deps, ctx), { maxAttempts: this.d.maxAttempts, backoffMs: this.d.retryDelayMs, retainExecutions: 50, retainPerVendor: true });
    this.d.jobs.register(REPLICATION_COPY_JOB, (ctx) => runCopy(deps, ctx), { maxAttempts: this.d.maxAttempts, backoffMs: this.d.retryDelayMs, maxBackoffMs: 60_000 });
  }

  // ---- policies ---------------------------------------------------------------------------------------

  private async parse(body: Fields, cur?: ReplicationPolicyRow): Promise<NewReplicationPolicy> {
    const regId = (v: unknown, fallback: number): number => {
      if (v === undefined) return fallback;
      if (v === null) return 0;
      const id = Number((v as { id?: unknown }).id ?? 0);
      if (!Number.isInteger(id) || id < 0) throw ApiErrors.badRequest('invalid registry id');
      return id;
    };
    const s = (k: string, fb: string) => (body[k] === undefined ? fb : typeof body[k] === 'string' ? (body[k] as string) : (() => { throw ApiErrors.badRequest(`invalid ${k}`); })());
    const bo = (k: string, fb: boolean) => (body[k] === undefined ? fb : typeof body[k] === 'boolean' ? (body[k] as boolean) : (() => { throw ApiErrors.badRequest(`invalid ${k}`); })());
    const n = (k: string, fb: number) => (body[k] === undefined ? fb : Number.isInteger(body[k]) ? (body[k] as number) : (() => { throw ApiErrors.badRequest(`invalid ${k}`); })());
    const p: NewReplicationPolicy = {
      name: s('name', cur?.name ?? '').trim(),
      description: s('description', cur?.description ?? ''),
      creator: cur?.creator ?? '',
      srcRegistryId: regId(body.src_registry, cur?.srcRegistryId ?? 0),
      destRegistryId: regId(body.dest_registry, cur?.destRegistryId ?? 0),
      destNamespace: s('dest_namespace', cur?.destNamespace ?? ''),
      destNamespaceReplaceCount: n('dest_namespace_replace_count', cur?.destNamespaceReplaceCount ?? -1),
      trigger: (body.trigger as NewReplicationPolicy['trigger']) ?? cur?.trigger ?? { type: 'manual' },
      filters: (body.filters as ReplicationFilter[]) ?? cur?.filters ?? [],
      replicateDeletion: bo('deletion', bo('replicate_deletion', cur?.replicateDeletion ?? false)),
      override: bo('override', cur?.override ?? false),
      enabled: bo('enabled', cur?.enabled ?? true),
      speed: n('speed', cur?.speed ?? -1),
      copyByChunk: bo('copy_by_chunk', cur?.copyByChunk ?? false),
      singleActiveReplication: bo('single_active_replication', cur?.singleActiveReplication ?? false),
      mode: s('mode', cur?.mode ?? ''),
    };
    // Harbor's Policy.Validate texts.
    if (!p.name) throw ApiErrors.badRequest('empty name');
    if ((p.srcRegistryId === 0) === (p.destRegistryId === 0)) throw ApiErrors.badRequest('either src_registry or dest_registry should be empty and the other one shouldn\'t be empty');
    for (const id of [p.srcRegistryId, p.destRegistryId]) if (id) await this.d.registries.get(id);
    if (p.destNamespace && !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(p.destNamespace)) throw ApiErrors.badRequest(`invalid destination namespace: ${p.destNamespace}`);
    if (!p.trigger || typeof p.trigger !== 'object' || !TRIGGERS.has(p.trigger.type)) throw ApiErrors.badRequest('invalid trigger type');
    if (p.trigger.type === 'scheduled') {
      const cron = p.trigger.trigger_settings?.cron ?? '';
      if (!cron) throw ApiErrors.badRequest('the cron string cannot be empty when the trigger type is scheduled');
      try {
        validateSchedule(cron);
      } catch {
        throw ApiErrors.badRequest(`invalid cron string for scheduled trigger: ${cron}`);
      }
      const fields = cron.trim().split(/\s+/);
      if (fields.length === 6 && fields[0] !== '0') throw ApiErrors.badRequest('the 1st field (indicating Seconds of time) of the cron setting must be 0');
      if (fields.length === 6 && fields[1] === '*') throw ApiErrors.badRequest('* is not allowed for the Minutes field of the cron setting of replication policy');
    }
    if (!Array.isArray(p.filters)) throw ApiErrors.badRequest('invalid filters');
    for (const f of p.filters) {
      if (!f || typeof f !== 'object' || !FILTER_TYPES.has(f.type)) throw ApiErrors.badRequest(`invalid filter type: ${String((f as { type?: unknown })?.type)}`);
      if ((f.type === 'name' || f.type === 'tag') && (typeof f.value !== 'string' || !isValidPattern(f.value))) throw ApiErrors.badRequest(`invalid ${f.type} filter: ${String(f.value)}`);
      // Harbor's label filter: a list of label names (artifacts carrying all of them; excludes: not all of them).
      if (f.type === 'label' && !(Array.isArray(f.value) && f.value.every((v) => typeof v === 'string')))
        throw ApiErrors.badRequest(`invalid label filter: ${JSON.stringify(f.value)}`);
      // Labels are the source's: a pull-based policy from a remote registry cannot see them (Harbor reads them
      // through the remote's Harbor API; Berth filters local artifacts only).
      if (f.type === 'label' && p.srcRegistryId !== 0) throw ApiErrors.badRequest('label filters apply to push-based policies (the local registry is the source)');
      if (f.type === 'resource' && f.value !== 'image' && f.value !== 'artifact') throw ApiErrors.badRequest(`invalid resource filter: ${String(f.value)}`);
      if (f.decoration !== undefined && f.decoration !== 'matches' && f.decoration !== 'excludes') throw ApiErrors.badRequest(`invalid filter decoration: ${f.decoration}`);
    }
    compileFilters(p.filters);
    if (p.mode !== '' && p.mode !== ANTI_ENTROPY) throw ApiErrors.badRequest(`invalid mode: ${p.mode} (one of "", "${ANTI_ENTROPY}")`);
    if (p.mode === ANTI_ENTROPY) {
      // Both sides are compared tag by tag under the same names, with a Berth peer's anti-entropy API.
      if (p.srcRegistryId !== 0) throw ApiErrors.badRequest('an anti-entropy policy names the peer as dest_registry (the local registry is the other side)');
      if ((await this.d.registries.get(p.destRegistryId)).type !== 'harbor') throw ApiErrors.badRequest('anti-entropy needs a Berth peer (registry type harbor)');
      if (p.destNamespace) throw ApiErrors.badRequest('an anti-entropy policy keeps repository names: dest_namespace must be empty');
      if (p.trigger.type === 'event_based') throw ApiErrors.badRequest('an anti-entropy policy runs manually or on a schedule (add an event_based policy for immediate pushes)');
    }
    return p;
  }

  async createPolicy(actor: string, body: Fields): Promise<number> {
    const p = await this.parse(body);
    p.creator = actor;
    if (await this.d.repo.findPolicyByName(p.name)) throw ApiErrors.conflict(`policy ${p.name} already exists`);
    const id = await this.d.repo.savePolicy(p);
    await this.syncSchedule(id, p);
    await this.d.audit.record({ username: actor, operation: 'create', resourceType: 'replication_policy', resource: p.name });
    return id;
  }

  async updatePolicy(actor: string, id: number, body: Fields): Promise<void> {
    const cur = await this.getPolicy(id);
    const p = await this.parse(body, cur);
    const other = await this.d.repo.findPolicyByName(p.name);
    if (other && other.id !== id) throw ApiErrors.conflict(`policy ${p.name} already exists`);
    await this.d.repo.updatePolicy(id, p);
    await this.syncSchedule(id, p);
    await this.d.audit.record({ username: actor, operation: 'update', resourceType: 'replication_policy', resource: p.name });
  }

  /** Scheduled trigger → the job service's schedule (vendor = policy id); anything else removes it. */
  private async syncSchedule(id: number, p: NewReplicationPolicy): Promise<void> {
    if (p.enabled && p.trigger.type === 'scheduled') await this.d.jobs.schedule(REPLICATION_JOB, p.trigger.trigger_settings!.cron!, { policy_id: id }, { vendorId: id });
    else await this.d.jobs.unschedule(REPLICATION_JOB, id);
  }

  async getPolicy(id: number): Promise<ReplicationPolicyRow> {
    const p = await this.d.repo.findPolicy(id);
    if (!p) throw ApiErrors.notFound(`the replication policy ${id} not found`);
    return p;
  }

  listPolicies(o: { name?: string; limit: number; offset: number }) {
    return this.d.repo.listPolicies(o);
  }

  async deletePolicy(actor: string, id: number): Promise<void> {
    const p = await this.getPolicy(id);
    const running = await this.d.jobs.listExecutions({ vendorType: REPLICATION_JOB, vendorId: id, limit: 100 });
    if (running.some((e) => e.status === 'Running' || e.status === 'Pending')) throw ApiErrors.precondition(`the replication policy ${id} has running executions, can not be deleted`);
    await this.d.jobs.unschedule(REPLICATION_JOB, id);
    await this.d.repo.removePolicy(id);
    await this.d.audit.record({ username: actor, operation: 'delete', resourceType: 'replication_policy', resource: p.name });
  }

  // ---- executions -------------------------------------------------------------------------------------

  async start(policyId: number): Promise<number> {
    const p = await this.getPolicy(policyId);
    if (!p.enabled) throw ApiErrors.precondition(`the policy ${policyId} is disabled`);
    if (p.singleActiveReplication && (await this.active(policyId))) throw ApiErrors.precondition(`the policy ${policyId} has an execution in progress`);
    const ex = await this.d.jobs.submit(REPLICATION_JOB, { policy_id: policyId }, 'manual', { vendorId: policyId });
    return ex.id;
  }

  private async active(policyId: number): Promise<boolean> {
    const list = await this.d.jobs.listExecutions({ vendorType: REPLICATION_JOB, vendorId: policyId, limit: 20 });
    return list.some((e) => e.status === 'Running' || e.status === 'Pending');
  }

  async execution(id: number): Promise<Execution> {
    const ex = await this.d.jobs.getExecution(id);
    if (!ex || ex.vendorType !== REPLICATION_JOB) throw ApiErrors.notFound(`execution ${id} not found`);
    return ex;
  }

  async listExecutions(o: { policyId?: number; limit: number; offset: number }): Promise<{ items: Execution[]; total: number }> {
    const f = { vendorType: REPLICATION_JOB, ...(o.policyId !== undefined ? { vendorId: o.policyId } : {}) };
    return { items: await this.d.jobs.listExecutions({ ...f, limit: o.limit, offset: o.offset }), total: await this.d.jobs.countExecutions(f) };
  }

  async stop(id: number): Promise<void> {
    await this.execution(id);
    await this.d.jobs.stop(id);
  }

  /** The copy tasks (the planner task is the execution's own bookkeeping, as Harbor's flow controller). */
  async tasks(executionId: number): Promise<Task[]> {
    await this.execution(executionId);
    return (await this.d.jobs.listTasks(executionId)).filter((t) => t.jobType === REPLICATION_COPY_JOB);
  }

  async counts(executionId: number): Promise<{ total: number; failed: number; succeed: number; in_progress: number; stopped: number }> {
    const t = await this.d.jobs.listTasks(executionId);
    const copy = t.filter((x) => x.jobType === REPLICATION_COPY_JOB);
    const c = (s: string[]) => copy.filter((x) => s.includes(x.status)).length;
    return { total: copy.length, failed: c(['Error']), succeed: c(['Success']), in_progress: c(['Running', 'Pending']), stopped: c(['Stopped']) };
  }

  async taskLog(executionId: number, taskId: number): Promise<string> {
    await this.execution(executionId);
    const t = await this.d.jobs.getTask(taskId);
    if (!t || t.executionId !== executionId) throw ApiErrors.notFound(`execution ${executionId} contains no task with ID ${taskId}`);
    return this.d.jobs.getTaskLogText(taskId);
  }

  // ---- event-based trigger ----------------------------------------------------------------------------

  readonly subscriber: Subscriber = {
    name: 'replication',
    types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'DELETE_TAG'],
    handle: (events, q) => this.handle(events, q),
  };

  /** Queues an execution per matching event-based policy, inside the dispatcher's transaction (as webhooks). */
  private async handle(events: readonly DomainEvent[], q: Queryable): Promise<void> {
    const policies = await this.d.repo.listEventPolicies(q);
    if (!policies.length) return;
    for (const e of events) {
      const a = e.data as { repository: string; digest: string; tags: string[]; origin?: string };
      for (const p of policies) {
        // Loop prevention: what arrived by replication from the policy's destination is not sent back there.
        if (a.origin && this.peerIds.get(p.destRegistryId) === a.origin) continue;
        const f = compileFilters(p.filters);
        if (!f.name(a.repository)) continue;
        const tags = a.tags.filter((t) => f.tag(t));
        if (a.tags.length && !tags.length) continue;
        let params: Record<string, unknown>;
        if (e.type === 'PUSH_ARTIFACT') params = { policy_id: p.id, only: { repo: a.repository, digest: a.digest, tags, ...(a.origin ? { origin: a.origin } : {}) } };
        else {
          if (!p.replicateDeletion) continue;
          // A tag delete removes only that tag's manifest reference at Harbor too (by digest at the remote).
          const dst = destinationName(a.repository, p.destNamespace, p.destNamespaceReplaceCount);
          params = { policy_id: p.id, deletion: [{ policy_id: p.id, src_repo: a.repository, dst_repo: dst, digest: a.digest, tags, operation: 'deletion', tag_only: e.type === 'DELETE_TAG' }] };
        }
        await this.d.jobs.submit(REPLICATION_JOB, params, 'event', { vendorId: p.id, q, extraAttrs: { event_id: e.id } });
      }
    }
  }
}
