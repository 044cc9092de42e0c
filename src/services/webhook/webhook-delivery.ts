// Webhook delivery: the `webhook` event subscriber and the WEBHOOK/SLACK job types.
//
// The subscriber runs in the dispatcher's transaction (src/events.ts): for each webhook-visible event it finds
// the project's enabled policies that select the event type and queues one execution per (policy, target) with
// `q`, together with the policy's last trigger time. So a committed change yields exactly one delivery job per
// target even across crashes and processes, and the body is fixed at that moment (Harbor's hook manager keeps
// the payload in the execution's extra_attrs; so does Berth). The job does the HTTP: through the outbound
// guard, with a timeout, retried with exponential backoff (the job service), a bounded number of requests in
// flight per target, the event id in a header and, when configured, an HMAC-SHA256 signature over the body.
import { createHmac } from 'node:crypto';
import type { Queryable } from '../../db/db.ts';
import type { DomainEvent, Subscriber } from '../../events.ts';
import { OutboundRefusedError, OutboundUnresolvedError, type OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import { sendOutbound } from '../../drivers/http/outbound-client.ts';
import type { WebhookRepository } from '../../repositories/webhook-repository.ts';
import type { ProjectRepository } from '../../repositories/project-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import { PermanentJobError, type JobContext, type JobParams, type JobService } from '../jobs/job-service.ts';
import { SLACK_JOB, WEBHOOK_EVENT_TYPES, WEBHOOK_JOB, WEBHOOK_JOB_TYPES } from './webhook-service.ts';
import { formatHttp, formatSlack, harborPayload } from './payload.ts';
import type { SecretBox } from '../security/secret-box.ts';

/** Headers Berth adds beyond Harbor's: the domain event id (de-duplication) and the optional signature. */
export const EVENT_ID_HEADER = 'X-Berth-Event-Id';
export const SIGNATURE_HEADER = 'X-Berth-Signature-256';

/** What a delivery task carries; the auth header stays sealed in the database. */
interface DeliveryParams {
  policy_id: number;
  event_id: string;
  event_type: string;
  address: string;
  content_type: string;
  payload: string;
  auth_header: string;
  skip_cert_verify: boolean;
}

export interface WebhookDeliveryOptions {
  /** Attempts per delivery. */
  maxAttempts: number;
  timeoutMs: number;
  /** First retry delay (doubles per attempt). */
  retryDelayMs: number;
  /** Requests in flight to one target address, per process. */
  perTargetConcurrency: number;
  /** HMAC key of the signature header; '' = none. */
  signingSecret: string;
}

/** Deliveries in flight per process (all targets together; each target is also bounded by perTargetConcurrency). */
const WEBHOOK_CONCURRENCY = 32;

/** The runtime setting that switches webhooks off for the whole registry (Harbor's notification_enable). */
export type NotificationEnabled = () => Promise<boolean>;

export class WebhookDelivery {
  private readonly policies: WebhookRepository;
  private readonly projects: ProjectRepository;
  private readonly repositories: RepositoryRepository;
  private readonly jobs: JobService;
  private readonly guard: OutboundGuard;
  private readonly box: SecretBox;
  private readonly enabled: NotificationEnabled;
  private readonly o: WebhookDeliveryOptions;
  /** Host (and port) shown in resource_url; set once the listener knows its port. */
  private registryHost: string;
  private readonly inFlight = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(
    deps: { policies: WebhookRepository; projects: ProjectRepository; repositories: RepositoryRepository; jobs: JobService; guard: OutboundGuard; box: SecretBox; enabled: NotificationEnabled; registryHost: string },
    o: WebhookDeliveryOptions,
  ) {
    this.policies = deps.policies;
    this.projects = deps.projects;
    this.repositories = deps.repositories;
    this.jobs = deps.jobs;
    this.guard = deps.guard;
    this.box = deps.box;
    this.enabled = deps.enabled;
    this.registryHost = deps.registryHost;
    this.o = o;
  }

  setRegistryHost(host: string): void {
    this.registryHost = host;
  }

  /** The event subscriber (listed in the app's subscriber table). */
  readonly subscriber: Subscriber = {
    name: 'webhook',
    types: WEBHOOK_EVENT_TYPES,
    handle: (events, q) => this.handle(events, q),
    // The deliveries it queued are committed now: the job service need not wait for its next poll.
    committed: () => this.jobs.kick(),
  };

  private async handle(events: readonly DomainEvent[], q: Queryable): Promise<void> {
    if (!(await this.enabled())) return;
    const byProject = new Map<number, DomainEvent[]>();
    for (const e of events) {
      if (e.projectId === null) continue;
      const list = byProject.get(e.projectId);
      if (list) list.push(e);
      else byProject.set(e.projectId, [e]);
    }
    // Everything the batch queues goes in a few multi-row statements at the end (a push to a project with ten
    // policies is ten deliveries; a burst of pushes, hundreds).
    const queued: Record<typeof WEBHOOK_JOB | typeof SLACK_JOB, { vendorId: number; params: JobParams; extraAttrs: JobParams }[]> = { [WEBHOOK_JOB]: [], [SLACK_JOB]: [] };
    const triggers = new Map<string, { policyId: number; eventType: string; at: number }>();
    for (const [projectId, list] of byProject) {
      const policies = await this.policies.listEnabledPolicies(projectId, q);
      if (!policies.length) continue;
      const project = await this.projects.findProjectById(projectId, q);
      for (const e of list) {
        const matching = policies.filter((p) => p.eventTypes.includes(e.type));
        if (!matching.length) continue;
        const repoName = (e.data as { repository?: string }).repository;
        const repo = repoName ? await this.repositories.findRepositoryByName(repoName, q) : null;
        const payload = harborPayload(e, { registryHost: this.registryHost, repositoryCreated: repo?.createdAt ?? null, projectPublic: project?.public ?? false });
        if (!payload) continue;
        for (const policy of matching) {
          for (const target of policy.targets) {
            const f = target.type === 'slack' ? formatSlack(payload) : formatHttp(target.payload_format, e, payload, { projectId, policyId: policy.id });
            const params: DeliveryParams = {
              policy_id: policy.id,
              event_id: e.id,
              event_type: e.type,
              address: target.address,
              content_type: f.contentType,
              payload: f.body,
              auth_header: target.type === 'slack' ? '' : target.auth_header,
              skip_cert_verify: target.skip_cert_verify,
            };
            queued[target.type === 'slack' ? SLACK_JOB : WEBHOOK_JOB].push({ vendorId: policy.id, params: { ...params }, extraAttrs: { event_type: e.type, payload: f.body, event_id: e.id } });
          }
          const key = `${policy.id}/${e.type}`;
          if ((triggers.get(key)?.at ?? -Infinity) < e.occurredAt) triggers.set(key, { policyId: policy.id, eventType: e.type, at: e.occurredAt });
        }
      }
    }
    for (const type of WEBHOOK_JOB_TYPES) await this.jobs.submitMany(type, 'event', queued[type], q);
    await this.policies.saveLastTriggers([...triggers.values()], q);
  }

  /** Registers the WEBHOOK and SLACK job types on this process's job service. */
  register(): void {
    for (const type of WEBHOOK_JOB_TYPES)
      this.jobs.register(type, (ctx) => this.deliver(ctx), {
        maxAttempts: this.o.maxAttempts,
        backoffMs: this.o.retryDelayMs,
        maxBackoffMs: Math.max(this.o.retryDelayMs, 300_000),
        retainExecutions: 50,
        retainPerVendor: true,
        // Pruning deletes (one commit) once per 10 deliveries of a policy instead of after each one.
        retainSlack: 10,
        // Outside the max_job_workers pool, claimed in batches; each target still gets perTargetConcurrency.
        concurrency: WEBHOOK_CONCURRENCY,
      });
  }

  private async deliver(ctx: JobContext): Promise<void> {
    const p = ctx.params as unknown as DeliveryParams;
    const headers: Record<string, string> = { 'content-type': p.content_type, 'user-agent': 'Berth-Webhook', [EVENT_ID_HEADER]: p.event_id };
    if (p.auth_header) headers.authorization = this.box.open(p.auth_header);
    if (this.o.signingSecret) headers[SIGNATURE_HEADER] = `sha256=${createHmac('sha256', this.o.signingSecret).update(p.payload).digest('hex')}`;
    ctx.log(`attempt ${ctx.attempt}: sending ${p.event_type} (event ${p.event_id}) to ${p.address}`);
    const release = await this.acquire(p.address, ctx.signal);
    const started = Date.now();
    try {
      const res = await sendOutbound(this.guard, {
        method: 'POST',
        url: p.address,
        headers,
        body: p.payload,
        timeoutMs: this.o.timeoutMs,
        insecure: p.skip_cert_verify,
        signal: ctx.signal,
      });
      if (res.status < 200 || res.status >= 300) throw new Error(`abnormal response code: ${res.status}, body: ${res.body.slice(0, 512)}`);
      ctx.log(`delivered: HTTP ${res.status} in ${Date.now() - started} ms`);
    } catch (err) {
      // A target that now resolves to a refused address (DNS changed since it was saved) will not get better.
      if (err instanceof OutboundRefusedError && !(err instanceof OutboundUnresolvedError)) throw new PermanentJobError(`target refused: ${err.message}`);
      throw err;
    } finally {
      release();
    }
  }

  /**
   * Waits for a free slot of the target (per process), so one slow receiver cannot take every worker's sockets.
   * A released slot passes straight to the longest waiter (FIFO); an aborted waiter leaves the queue.
   */
  private async acquire(address: string, signal: AbortSignal): Promise<() => void> {
    const key = new URL(address).host;
    let slot = this.inFlight.get(key);
    if (!slot) this.inFlight.set(key, (slot = { active: 0, waiting: [] }));
    const s = slot;
    const release = () => {
      const next = s.waiting.shift();
      if (next) next();
      else if (--s.active === 0) this.inFlight.delete(key);
    };
    if (s.active < this.o.perTargetConcurrency) {
      s.active++;
      return release;
    }
    if (signal.aborted) throw signal.reason;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = s.waiting.indexOf(granted);
        if (i >= 0) s.waiting.splice(i, 1);
        reject(signal.reason);
      };
      // The slot is handed over with active unchanged: it moves from the releaser to this waiter.
      const granted = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      s.waiting.push(granted);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return release;
  }
}
