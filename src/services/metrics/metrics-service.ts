// Prometheus metrics with Harbor's names (its exporter's harbor_* gauges and core's harbor_core_http_* series)
// plus Node's process metrics, in one prom-client registry per service instance (no global default registry,
// so tests may build several apps in one process). The database-derived gauges are computed when scraped, from
// the sources below, each cached for `cacheMs` so a burst of scrapes costs one round of queries; requests never
// write anything for metrics.
import { Counter, Gauge, Registry, Summary, collectDefaultMetrics } from 'prom-client';

/** One project as the exporter reports it. */
export interface ProjectMetrics {
  name: string;
  public: boolean;
  /** User members (groups are not counted, as in Harbor). */
  members: number;
  repositories: number;
  /** Pulls of all its repositories. */
  pulls: number;
  /** Storage limit in bytes, -1 unlimited. */
  quotaHard: number;
  quotaUsed: number;
  /** Artifacts by Harbor type (IMAGE, CHART, ...). */
  artifacts: ReadonlyMap<string, number>;
}

export interface MetricsSources {
  projects(): Promise<ProjectMetrics[]>;
  /** Harbor's Statistic object as a system admin sees it (GET /statistics). */
  statistics(): Promise<Record<string, number>>;
  health(): Promise<{ status: string; components: readonly { name: string; status: string }[] }>;
  systemInfo(): Promise<{ authMode: string; version: string; selfRegistration: boolean }>;
  jobs(): Promise<{
    queues: readonly { jobType: string; count: number; latencySeconds: number }[];
    running: readonly { jobType: string; count: number }[];
    pool: string;
    scheduled: number;
  }>;
}

export interface MetricsServiceOptions {
  sources: MetricsSources;
  /** How long a computed source is reused (default 2000 ms). */
  cacheMs?: number;
  /** A source failed at scrape time; its series are left out of that scrape. */
  warn: (message: string) => void;
}

/** Harbor's statistics_* gauges and the Statistic fields they report. */
const STATISTICS: [name: string, field: string, help: string][] = [
  ['total_storage_consumption', 'total_storage_consumption', 'Total storage used'],
  ['total_project_amount', 'total_project_count', 'Total amount of projects'],
  ['public_project_amount', 'public_project_count', 'Amount of public projects'],
  ['private_project_amount', 'private_project_count', 'Amount of private projects'],
  ['total_repo_amount', 'total_repo_count', 'Total amount of repositories'],
  ['public_repo_amount', 'public_repo_count', 'Amount of public repositories'],
  ['private_repo_amount', 'private_repo_count', 'Amount of private repositories'],
];

type Source = keyof MetricsSources;

export class MetricsService {
  readonly registry = new Registry();
  private readonly sources: MetricsSources;
  private readonly cacheMs: number;
  private readonly warn: (message: string) => void;
  private readonly cache = new Map<Source, { at: number; value: Promise<unknown> }>();
  private readonly inflight: Gauge;
  private readonly requests: Counter<'method' | 'code' | 'operation'>;
  private readonly durations: Summary<'method' | 'operation'>;

  constructor(o: MetricsServiceOptions) {
    this.sources = o.sources;
    this.cacheMs = o.cacheMs ?? 2000;
    this.warn = o.warn;
    const registers = [this.registry];
    // Harbor core's request metrics (METRIC_NAMESPACE=harbor, METRIC_SUBSYSTEM=core), same labels and quantiles;
    // the summary window matches Go's default (10 minutes in 5 age buckets).
    this.inflight = new Gauge({ name: 'harbor_core_http_inflight_requests', help: 'The total number of requests', registers });
    this.requests = new Counter({ name: 'harbor_core_http_request_total', help: 'The total number of requests', labelNames: ['method', 'code', 'operation'], registers });
    this.durations = new Summary({
      name: 'harbor_core_http_request_duration_seconds',
      help: 'The time duration of the requests',
      labelNames: ['method', 'operation'],
      percentiles: [0.5, 0.9, 0.99],
      maxAgeSeconds: 600,
      ageBuckets: 5,
      registers,
    });
    collectDefaultMetrics({ register: this.registry });
    this.defineExporterGauges();
  }

  /** Counts a request as in flight; call the result once when its response is done (or the client left). */
  requestStarted(): (method: string, code: number, operation: string) => void {
    this.inflight.inc();
    const started = process.hrtime.bigint();
    let ended = false;
    return (method, code, operation) => {
      if (ended) return;
      ended = true;
      this.inflight.dec();
      this.durations.observe({ method, operation }, Number(process.hrtime.bigint() - started) / 1e9);
      this.requests.inc({ method, code: String(code), operation });
    };
  }

  /** The exposition in Prometheus' text format. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** A source's value, computed at most once per cacheMs; a failure is not cached. */
  private read<S extends Source>(source: S): Promise<Awaited<ReturnType<MetricsSources[S]>>> {
    const hit = this.cache.get(source);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.value as Promise<Awaited<ReturnType<MetricsSources[S]>>>;
    const value = (this.sources[source] as () => Promise<unknown>)();
    this.cache.set(source, { at: Date.now(), value });
    value.catch(() => {
      if (this.cache.get(source)?.value === value) this.cache.delete(source);
    });
    return value as Promise<Awaited<ReturnType<MetricsSources[S]>>>;
  }

  /**
   * A gauge whose series are rebuilt from `source` at each scrape. A failing source leaves the gauge empty for
   * that scrape (Harbor's exporter logs and skips it too) instead of failing the whole exposition.
   */
  private gauge<S extends Source, L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    source: S,
    fill: (set: (labels: Record<L, string>, value: number) => void, value: Awaited<ReturnType<MetricsSources[S]>>) => void,
  ): void {
    const read = (s: S) => this.read(s);
    const warn = this.warn;
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        this.reset();
        let value: Awaited<ReturnType<MetricsSources[S]>>;
        try {
          value = await read(source);
        } catch (err) {
          warn(`metrics: ${source} failed: ${(err as Error).message}`);
          return;
        }
        fill((labels, v) => (labelNames.length ? this.set(labels as never, v) : this.set(v)), value);
      },
    });
  }

  private defineExporterGauges(): void {
    const bool = (b: boolean) => (b ? 'true' : 'false');
    this.gauge('harbor_project_total', 'Total projects number', ['public'], 'projects', (set, ps) => {
      for (const pub of [true, false]) set({ public: bool(pub) }, ps.filter((p) => p.public === pub).length);
    });
    this.gauge('harbor_project_quota_usage_byte', 'The used resource of a project', ['project_name'], 'projects', (set, ps) => {
      for (const p of ps) set({ project_name: p.name }, p.quotaUsed);
    });
    this.gauge('harbor_project_quota_byte', 'The quota of a project', ['project_name'], 'projects', (set, ps) => {
      for (const p of ps) set({ project_name: p.name }, p.quotaHard);
    });
    this.gauge('harbor_project_repo_total', 'Total project repos number', ['project_name', 'public'], 'projects', (set, ps) => {
      for (const p of ps) set({ project_name: p.name, public: bool(p.public) }, p.repositories);
    });
    this.gauge('harbor_project_member_total', 'Total members number of a project', ['project_name'], 'projects', (set, ps) => {
      for (const p of ps) set({ project_name: p.name }, p.members);
    });
    this.gauge('harbor_artifact_pulled', 'The pull number of an artifact', ['project_name'], 'projects', (set, ps) => {
      for (const p of ps) set({ project_name: p.name }, p.pulls);
    });
    this.gauge('harbor_project_artifact_total', 'Total project artifacts number', ['project_name', 'public', 'artifact_type'], 'projects', (set, ps) => {
      for (const p of ps) for (const [type, n] of p.artifacts) set({ project_name: p.name, public: bool(p.public), artifact_type: type }, n);
    });
    for (const [name, field, help] of STATISTICS)
      this.gauge(`harbor_statistics_${name}`, help, [], 'statistics', (set, s) => set({}, Number(s[field] ?? 0)));
    const healthy = (status: string) => (status === 'healthy' ? 1 : 0);
    this.gauge('harbor_health', 'Running status of Harbor', [], 'health', (set, h) => set({}, healthy(h.status)));
    this.gauge('harbor_up', 'Running status of harbor component', ['component'], 'health', (set, h) => {
      for (const c of h.components) set({ component: c.name }, healthy(c.status));
    });
    this.gauge('harbor_system_info', 'Information of Harbor system', ['auth_mode', 'harbor_version', 'self_registration'], 'systemInfo', (set, i) =>
      set({ auth_mode: i.authMode, harbor_version: i.version, self_registration: bool(i.selfRegistration) }, 1),
    );
    this.gauge('harbor_task_queue_size', 'Total number of tasks', ['type'], 'jobs', (set, j) => {
      for (const q of j.queues) set({ type: q.jobType }, q.count);
    });
    this.gauge('harbor_task_queue_latency', 'how long ago the next job to be processed was enqueued', ['type'], 'jobs', (set, j) => {
      for (const q of j.queues) set({ type: q.jobType }, q.latencySeconds);
    });
    this.gauge('harbor_task_concurrency', 'Total number of concurrency on a pool', ['type', 'pool'], 'jobs', (set, j) => {
      for (const r of j.running) set({ type: r.jobType, pool: j.pool }, r.count);
    });
    this.gauge('harbor_task_scheduled_total', 'total number of scheduled job', [], 'jobs', (set, j) => set({}, j.scheduled));
  }
}

/** The projects source from its three grouped reads: counts, quotas and artifact columns (typed by `typeOf`). */
export function projectMetricsSource(d: {
  counts: () => Promise<readonly { id: number; name: string; public: boolean; members: number; repositories: number; pulls: number }[]>;
  quotas: () => Promise<ReadonlyMap<number, { hard: number; used: number }>>;
  artifactKinds: () => Promise<readonly { projectId: number; mediaType: string; configMediaType: string | null; artifactType: string | null; n: number }[]>;
  typeOf: (mediaType: string, configMediaType: string | null, artifactType: string | null) => string;
}): () => Promise<ProjectMetrics[]> {
  return async () => {
    const [counts, quotas, kinds] = await Promise.all([d.counts(), d.quotas(), d.artifactKinds()]);
    const artifacts = new Map<number, Map<string, number>>();
    for (const k of kinds) {
      const byType = artifacts.get(k.projectId) ?? new Map<string, number>();
      const type = d.typeOf(k.mediaType, k.configMediaType, k.artifactType);
      byType.set(type, (byType.get(type) ?? 0) + k.n);
      artifacts.set(k.projectId, byType);
    }
    return counts.map((c) => ({
      name: c.name,
      public: c.public,
      members: c.members,
      repositories: c.repositories,
      pulls: c.pulls,
      quotaHard: quotas.get(c.id)?.hard ?? -1,
      quotaUsed: quotas.get(c.id)?.used ?? 0,
      artifacts: artifacts.get(c.id) ?? new Map(),
    }));
  };
}
