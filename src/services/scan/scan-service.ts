// Scanning (Harbor's `scan` and `scanAll` tags, controller/scan): a scan is an IMAGE_SCAN job of the job service
// whose task streams the artifact's layers from the blob store into the inventory, stores the inventory with its
// findings (advisory-service.ts) and marks the report; SCANNING_COMPLETED/FAILED/STOPPED are raised in the
// transaction that writes the report's final status, so exactly one event per scan. An index is scanned through its
// image children (each gets a report); its own report sums theirs. The built-in scanner's findings are read from the
// stored inventory, so a re-match after an advisory import changes every report without reading a layer again.
// Also here: scan on push (a PUSH_ARTIFACT subscriber), scan all, and the pull policy (prevent_vul).
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors, RegistryError } from '../../errors.ts';
import type { ArtifactRef, DomainEvent, EventPublisher, NewEvent, Subscriber } from '../../events.ts';
import { INDEX_TYPES, IMAGE_TYPES } from '../../oci/media-types.ts';
import type { CveAllowlistRepository, SystemCveAllowlistRepository } from '../../repositories/cve-allowlist-repository.ts';
import type { ManifestRepository } from '../../repositories/manifest-repository.ts';
import type { ProjectRepository } from '../../repositories/project-repository.ts';
import type { ScanReportRepository, ScanReportRow, ScanStatus } from '../../repositories/scan-report-repository.ts';
import type { ScannerRow } from '../../repositories/scanner-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { PermanentJobError, type Execution, type JobContext, type JobService, type JobTrigger } from '../jobs/job-service.ts';
import { BUILTIN_SCANNER, REPORT_MIME, SEVERITIES, toReport, toSummary, type Finding, type Severity, type VulnerabilityReport, type VulnerabilitySummary } from './advisories.ts';
import type { AdvisoryService } from './advisory-service.ts';
import { inventory } from './inventory.ts';
import type { ScannerService } from './scanner-service.ts';

/** Harbor's job vendor types. */
export const SCAN_JOB = 'IMAGE_SCAN';
export const SCAN_ALL_JOB = 'SCAN_ALL';
/** Harbor's native report MIME type, also accepted when a client asks for it (the content is the same shape). */
export const NATIVE_REPORT_MIME = 'application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0';

const IMAGE_CONFIG_TYPES = new Set(['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json']);
const SCANNABLE_TYPES = [...IMAGE_TYPES, ...INDEX_TYPES];

/** What an artifact to scan is. */
export interface ScanTarget {
  projectId: number;
  projectName: string;
  projectPublic: boolean;
  repository: string;
  digest: string;
  mediaType: string;
  configMediaType: string | null;
  artifactType?: string | null;
  tags: string[];
  size?: number;
}

/** Harbor's NativeReportSummary (one entry of scan_overview). */
export interface ReportSummary {
  report_id: string;
  scan_status: ScanStatus;
  severity?: Severity;
  duration: number;
  summary?: VulnerabilitySummary;
  start_time: string;
  end_time?: string;
  complete_percent: number;
  scanner: { name: string; vendor: string; version: string };
}

interface ScanParams {
  report_id: string;
  digest: string;
  media_type: string;
  repository: string;
  project_id: number;
  project_name: string;
  project_public: boolean;
  tags: string[];
  operator: string;
  [k: string]: unknown;
}

export interface ScanServiceOptions {
  db: Db;
  reports: ScanReportRepository;
  scanners: ScannerService;
  advisories: AdvisoryService;
  store: BlobStore;
  manifests: ManifestRepository;
  projects: ProjectRepository;
  allowlists: CveAllowlistRepository;
  systemAllowlist: SystemCveAllowlistRepository;
  jobs: JobService;
  events: EventPublisher;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const FINAL: ReadonlySet<ScanStatus> = new Set(['Success', 'Error', 'Stopped']);
const rank = (s: Severity) => SEVERITIES.indexOf(s);

/** Harbor's vuln.ParseSeverityVersion3: the project `severity` metadata as a severity (Low when unset or unknown). */
export function projectSeverity(v: string | undefined): Severity {
  const s = (v ?? '').toLowerCase();
  const hit = SEVERITIES.find((x) => x.toLowerCase() === s);
  return hit && hit !== 'None' && hit !== 'Unknown' ? hit : hit === 'None' ? 'None' : 'Low';
}

const truthy = (v: string | undefined) => v === 'true' || v === '1' || v === 'True' || v === 'TRUE';

export class ScanService {
  private readonly o: ScanServiceOptions;
  constructor(o: ScanServiceOptions) {
    this.o = o;
  }

  /** Whether the built-in scanner can scan this artifact (images and indexes; not charts, signatures, SBOMs…). */
  static scannable(t: Pick<ScanTarget, 'mediaType' | 'configMediaType'>): boolean {
    if (INDEX_TYPES.has(t.mediaType)) return true;
    return IMAGE_TYPES.has(t.mediaType) && (t.configMediaType === null || IMAGE_CONFIG_TYPES.has(t.configMediaType));
  }

  register(): void {
    this.o.jobs.register(SCAN_JOB, (ctx) => this.runScan(ctx), { retainExecutions: 1000, maxAttempts: 1 });
    this.o.jobs.register(SCAN_ALL_JOB, (ctx) => this.runScanAll(ctx), { retainExecutions: 20, maxAttempts: 1 });
  }

  /** The scanner that scans the project's artifacts; refuses what Berth cannot scan with yet. */
  private async scannerFor(projectId: number, q?: Queryable): Promise<ScannerRow> {
    void q;
    const s = await this.o.scanners.ofProject(projectId);
    if (!s) throw ApiErrors.precondition('no scanner is configured, it is not possible to scan');
    if (s.disabled) throw ApiErrors.badRequest(`the scanner ${s.name} is disabled`);
    // Scanning through an external Pluggable Scanner API adapter is not built yet: say so instead of queuing a job
    // that cannot succeed.
    if (!s.immutable)
      throw ApiErrors.badRequest(
        `scanning through the external scanner ${s.name} is not supported by Berth yet; make the built-in scanner "Berth" the default or the project's scanner`,
      );
    return s;
  }

  /**
   * Queues a scan of the artifact (202 for the API). With `q` the job and report exist exactly when the caller's
   * transaction commits (scan on push). A scan already pending or running is a 409 unless `skipRunning`.
   */
  async submit(t: ScanTarget, operator: string, trigger: JobTrigger, opts: { q?: Queryable; skipRunning?: boolean } = {}): Promise<string | null> {
    const scanner = await this.scannerFor(t.projectId);
    if (!ScanService.scannable(t))
      throw ApiErrors.badRequest(`the configured scanner ${scanner.name} does not support scanning artifact with mime type ${t.mediaType.slice(0, 128)}`);
    const work = async (q: Queryable) => {
      const prev = await this.o.reports.findReportOf(t.digest, scanner.uuid, REPORT_MIME, q);
      if (prev && !FINAL.has(prev.status)) {
        if (opts.skipRunning) return null;
        throw ApiErrors.conflict(`a previous scan process is ${prev.status}`);
      }
      const id = randomUUID();
      const params: ScanParams = {
        report_id: id,
        digest: t.digest,
        media_type: t.mediaType,
        repository: t.repository,
        project_id: t.projectId,
        project_name: t.projectName,
        project_public: t.projectPublic,
        tags: t.tags.slice(0, 20),
        operator,
      };
      const ex = await this.o.jobs.submit(SCAN_JOB, params, trigger, { vendorId: t.projectId, q, extraAttrs: { artifact: `${t.repository}@${t.digest}`, report_id: id } });
      await this.o.reports.saveReport(
        { id, digest: t.digest, registrationUuid: scanner.uuid, mimeType: REPORT_MIME, status: 'Pending', executionId: ex.id, taskId: null, projectId: t.projectId, repository: t.repository, startTime: Date.now() },
        q,
      );
      return id;
    };
    return opts.q ? work(opts.q) : this.o.db.tx(work);
  }

  /** Stops the artifact's pending or running scan (Harbor: 400 when there is none). */
  async stop(t: Pick<ScanTarget, 'digest' | 'projectId'>, operator: string): Promise<void> {
    const scanner = await this.o.scanners.ofProject(t.projectId);
    const r = scanner ? await this.o.reports.findReportOf(t.digest, scanner.uuid, REPORT_MIME) : null;
    if (!r || FINAL.has(r.status) || r.executionId === null) throw ApiErrors.badRequest('the scan of the artifact is not pending or running');
    await this.o.jobs.stop(r.executionId).catch(() => {});
    // The report is final now, whether the task was still queued or running (a running handler sees its signal
    // aborted and finds the report already Stopped: only this write raises the event).
    await this.finish(r.id, 'Stopped', 'stopped by the user', operator);
  }

  /** Writes a final status and, if this call made it final, the matching SCANNING_* event, in one transaction. */
  private async finish(reportId: string, status: 'Success' | 'Error' | 'Stopped', message: string, operator?: string): Promise<boolean> {
    // What the event names comes from the scan's task (read before the transaction: the job tables are not part of it).
    const r0 = await this.o.reports.findReport(reportId);
    if (!r0) return false;
    const p = (r0.executionId !== null ? (await this.o.jobs.listTasks(r0.executionId)).find((t) => t.params.report_id === reportId)?.params : undefined) as ScanParams | undefined;
    return this.o.db.tx(async (q) => {
      if (!(await this.o.reports.saveStatus(reportId, status, message, q))) return false;
      if (!p) return true;
      const type = status === 'Success' ? 'SCANNING_COMPLETED' : status === 'Error' ? 'SCANNING_FAILED' : 'SCANNING_STOPPED';
      const after = (await this.o.reports.findReport(reportId, q))!;
      const overview = await this.summaryOf(after, q);
      const data: ArtifactRef & { report?: Record<string, unknown> } = {
        projectId: p.project_id,
        projectName: p.project_name,
        projectPublic: p.project_public,
        repository: p.repository,
        digest: p.digest,
        mediaType: p.media_type,
        tags: p.tags,
        report: { scan_type: 'vulnerability', scan_overview: { [REPORT_MIME]: overview } },
      };
      const ev: NewEvent = { type, operator: operator ?? p.operator, projectId: p.project_id, data };
      await this.o.events.publish(q, [ev]);
      return true;
    });
  }

  // ---- the scan job -------------------------------------------------------------------------------------------

  private async runScan(ctx: JobContext): Promise<Record<string, unknown> | void> {
    const p = ctx.params as ScanParams;
    const r = await this.o.reports.findReport(p.report_id);
    if (!r || FINAL.has(r.status)) {
      ctx.log(`report ${p.report_id} is ${r ? r.status : 'gone'}; nothing to do`);
      return;
    }
    await this.o.reports.saveStatus(r.id, 'Running');
    const started = Date.now();
    ctx.log(`scanning ${p.repository}@${p.digest} with the built-in scanner ${BUILTIN_SCANNER.name} ${BUILTIN_SCANNER.version}`);
    try {
      let total = 0;
      if (INDEX_TYPES.has(p.media_type)) {
        const m = await this.o.manifests.findManifestByDigest(p.repository, p.digest, true);
        if (!m) throw new Error(`manifest ${p.digest} is gone`);
        const children = (JSON.parse(m.content.toString('utf8')) as { manifests?: { digest: string; mediaType?: string }[] }).manifests ?? [];
        const scanned: string[] = [];
        for (const [i, c] of children.entries()) {
          if (ctx.signal.aborted) throw new Error('scan stopped');
          const cm = await this.o.manifests.findManifestByDigest(p.repository, c.digest, true);
          if (!cm || !IMAGE_TYPES.has(cm.mediaType)) {
            ctx.log(`child ${c.digest}: not an image manifest, skipped`);
            continue;
          }
          const config = (JSON.parse(cm.content.toString('utf8')) as { config?: { mediaType?: string } }).config?.mediaType ?? null;
          if (!ScanService.scannable({ mediaType: cm.mediaType, configMediaType: config })) {
            ctx.log(`child ${c.digest}: config ${config} is not an image, skipped`);
            continue;
          }
          ctx.log(`child ${i + 1}/${children.length} ${c.digest}`);
          // Each child has its report too (Harbor scans the children of an index one by one).
          const childId = randomUUID();
          await this.o.reports.saveReport({ id: childId, digest: c.digest, registrationUuid: r.registrationUuid, mimeType: REPORT_MIME, status: 'Running', executionId: r.executionId, taskId: null, projectId: r.projectId, repository: r.repository, startTime: Date.now() });
          try {
            total += await this.scanImage(ctx, cm.content, c.digest);
            await this.o.reports.saveStatus(childId, 'Success');
          } catch (e) {
            await this.o.reports.saveStatus(childId, ctx.signal.aborted ? 'Stopped' : 'Error', (e as Error).message.slice(0, 1000));
            throw e;
          }
          scanned.push(c.digest);
          ctx.progress(Math.floor(((i + 1) * 100) / Math.max(1, children.length)));
        }
        // The index's report lists the children it sums.
        await this.o.reports.saveReportBody(r.id, JSON.stringify({ children: scanned }));
      } else {
        const m = await this.o.manifests.findManifestByDigest(p.repository, p.digest, true);
        if (!m) throw new Error(`manifest ${p.digest} is gone`);
        total = await this.scanImage(ctx, m.content, p.digest);
      }
      if (ctx.signal.aborted) throw new Error('scan stopped');
      await this.finish(r.id, 'Success', '');
      ctx.log(`done in ${Date.now() - started} ms: ${total} vulnerabilities`);
      return { report_id: r.id, vulnerabilities: total };
    } catch (e) {
      const msg = (e as Error).message;
      if (ctx.signal.aborted) {
        ctx.log('scan stopped');
        await this.finish(r.id, 'Stopped', 'stopped');
        return;
      }
      ctx.log(`scan failed: ${msg}`);
      await this.finish(r.id, 'Error', msg.slice(0, 1000));
      throw new PermanentJobError(msg);
    }
  }

  /** Inventory of one image manifest's layers (streamed from the blob store), stored and matched. */
  private async scanImage(ctx: JobContext, content: Buffer, digest: string): Promise<number> {
    const m = JSON.parse(content.toString('utf8')) as { layers?: { digest: string; mediaType?: string; size?: number }[] };
    // Layer media types name a tar (plain, gzip or zstd); anything else (a foreign layer, a chart) is not a filesystem.
    const layers = (m.layers ?? []).filter((l) => !l.mediaType || /tar/.test(l.mediaType));
    ctx.log(`${layers.length} layers`);
    const inv = await inventory(
      layers.map((l, i) => () => {
        ctx.log(`layer ${i + 1}/${layers.length} ${l.digest} (${l.size ?? '?'} bytes)`);
        const s = this.o.store.read(l.digest);
        const abort = () => s.destroy(new Error('scan stopped'));
        ctx.signal.addEventListener('abort', abort, { once: true });
        s.once('close', () => ctx.signal.removeEventListener('abort', abort));
        return s;
      }),
    );
    for (const w of inv.warnings) ctx.log(`warning: ${w}`);
    ctx.log(`inventory: ${inv.os ? `${inv.os.id} ${inv.os.versionId}` : 'no OS release'}, ${inv.packages.length} packages`);
    const findings = await this.o.advisories.recordScan(digest, inv);
    ctx.log(`${findings.length} vulnerabilities`);
    return findings.length;
  }

  // ---- reading ------------------------------------------------------------------------------------------------

  /** Findings of a report: the stored inventory's, or the sum of the children's for an index. */
  private async findingsOf(r: ScanReportRow, q?: Queryable): Promise<Finding[]> {
    void q;
    const children = r.report ? ((JSON.parse(r.report) as { children?: string[] }).children ?? null) : null;
    const digests = children ?? [r.digest];
    const out: Finding[] = [];
    const seen = new Set<string>();
    for (const d of digests) {
      const inv = await this.o.advisories.repo.findInventory(d);
      for (const f of inv?.findings ?? []) {
        // The same finding in two platforms' images is one vulnerability of the index.
        const k = `${f.id}\0${f.package}\0${f.version}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(f);
      }
    }
    return out.sort((x, y) => rank(y.severity) - rank(x.severity) || x.id.localeCompare(y.id) || x.package.localeCompare(y.package));
  }

  private async progressOf(r: ScanReportRow): Promise<number> {
    if (r.status === 'Success') return 100;
    if (r.status !== 'Running' || r.executionId === null) return 0;
    const t = (await this.o.jobs.listTasks(r.executionId)).find((x) => x.params.report_id === r.id);
    return t?.progress ?? 0;
  }

  private async summaryOf(r: ScanReportRow, q?: Queryable): Promise<ReportSummary> {
    const end = r.endTime;
    const base: ReportSummary = {
      report_id: r.id,
      scan_status: r.status,
      duration: end ? Math.max(0, Math.round((end - r.startTime) / 1000)) : 0,
      start_time: iso(r.startTime),
      ...(end ? { end_time: iso(end) } : {}),
      complete_percent: q ? (r.status === 'Success' ? 100 : 0) : await this.progressOf(r),
      scanner: { ...BUILTIN_SCANNER },
    };
    if (r.status !== 'Success') return base;
    const report = toReport(await this.findingsOf(r, q));
    return { ...base, severity: report.severity, summary: toSummary(report) };
  }

  /** The report of the artifact by the project's scanner. */
  private async reportOf(projectId: number, digest: string): Promise<ScanReportRow | null> {
    const s = await this.o.scanners.ofProject(projectId);
    return s ? this.o.reports.findReportOf(digest, s.uuid, REPORT_MIME) : null;
  }

  /** Harbor's scan_overview per digest (digests without a report are absent). */
  async overviews(projectId: number, digests: readonly string[]): Promise<Map<string, Record<string, ReportSummary>>> {
    const s = await this.o.scanners.ofProject(projectId);
    const out = new Map<string, Record<string, ReportSummary>>();
    if (!s) return out;
    for (const r of await this.o.reports.listReportsOf(digests)) {
      if (r.registrationUuid !== s.uuid || r.mimeType !== REPORT_MIME) continue;
      out.set(r.digest, { [REPORT_MIME]: await this.summaryOf(r) });
    }
    return out;
  }

  /**
   * The vulnerabilities addition: Harbor's report per requested MIME type (the generic and native types share the
   * shape); `{}` when the artifact has no finished report.
   */
  async vulnerabilities(projectId: number, digest: string, accept: readonly string[]): Promise<Record<string, VulnerabilityReport & { artifact?: unknown }>> {
    const r = await this.reportOf(projectId, digest);
    if (!r) return {};
    const mimes = accept.filter((m) => m === REPORT_MIME || m === NATIVE_REPORT_MIME);
    const wanted = mimes.length ? mimes : [REPORT_MIME];
    if (r.status !== 'Success') return {};
    const report = toReport(await this.findingsOf(r), BUILTIN_SCANNER, new Date(r.endTime ?? Date.now()));
    return Object.fromEntries(wanted.map((m) => [m, report]));
  }

  /** The log of a report's scan (text), when the report belongs to this artifact (or one of its children). */
  async log(projectId: number, digest: string, reportId: string): Promise<string> {
    const r = reportId.length <= 64 ? await this.o.reports.findReport(reportId) : null;
    if (!r || r.projectId !== projectId) throw ApiErrors.notFound(`report ${reportId.slice(0, 64)} not found`);
    if (r.digest !== digest) {
      // A child's report is read through its index.
      const top = await this.reportOf(projectId, digest);
      if (!top || top.executionId !== r.executionId) throw ApiErrors.notFound(`report ${reportId.slice(0, 64)} not found`);
    }
    if (r.executionId === null) return '';
    const tasks = await this.o.jobs.listTasks(r.executionId);
    const t = tasks.find((x) => x.params.report_id === r.id) ?? tasks.find((x) => x.jobType === SCAN_JOB && x.params.digest !== undefined && r.digest !== x.params.digest);
    return t ? this.o.jobs.getTaskLogText(t.id) : '';
  }

  // ---- scan on push ------------------------------------------------------------------------------------------

  /** Harbor's scan on push: a PUSH_ARTIFACT of an image in a project with `auto_scan` queues a scan (event seam only). */
  readonly subscriber: Subscriber = {
    name: 'scan-on-push',
    types: ['PUSH_ARTIFACT'],
    handle: (events, q) => this.onPush(events, q),
  };

  private async onPush(events: readonly DomainEvent[], q: Queryable): Promise<void> {
    const meta = new Map<number, Record<string, string>>();
    for (const e of events) {
      const a = e.data as ArtifactRef;
      if (!IMAGE_TYPES.has(a.mediaType) && !INDEX_TYPES.has(a.mediaType)) continue;
      let md = meta.get(a.projectId);
      if (!md) meta.set(a.projectId, (md = await this.o.projects.findProjectMetadata(a.projectId, q)));
      if (!truthy(md.auto_scan)) continue;
      const m = await this.o.manifests.findManifestByDigest(a.repository, a.digest, true, q);
      if (!m) continue;
      const config = INDEX_TYPES.has(m.mediaType) ? null : ((JSON.parse(m.content.toString('utf8')) as { config?: { mediaType?: string } }).config?.mediaType ?? null);
      // An index's children are pushed first and scanned through it; a child pushed alone is scanned itself.
      if (!ScanService.scannable({ mediaType: m.mediaType, configMediaType: config })) continue;
      try {
        await this.submit({ ...a, configMediaType: config }, e.operator, 'event', { q, skipRunning: true });
      } catch (err) {
        // A project whose scanner cannot scan (an external one, disabled) does not stop the other subscribers' work.
        if (!(err instanceof Error && 'status' in err)) throw err;
      }
    }
  }

  // ---- scan all ------------------------------------------------------------------------------------------------

  /** POST /system/scanAll/schedule with Manual: one SCAN_ALL execution (409 while the previous one runs). */
  async scanAll(trigger: JobTrigger): Promise<Execution> {
    const last = await this.latestScanAll(trigger === 'manual' ? 'manual' : undefined);
    if (last && !['Success', 'Error', 'Stopped'].includes(last.status)) throw ApiErrors.conflict(`a previous scan all job aleady exits, its status is ${last.status}`);
    return this.o.jobs.submit(SCAN_ALL_JOB, {}, trigger);
  }

  async latestScanAll(trigger?: JobTrigger): Promise<Execution | null> {
    const list = await this.o.jobs.listExecutions({
      vendorType: SCAN_ALL_JOB,
      where: trigger ? { trigger: { op: 'eq', value: trigger } } : {},
      limit: 1,
      sort: [{ field: 'start_time', desc: true }, { field: 'id', desc: true }],
    });
    return list[0] ?? null;
  }

  /** Harbor's Stats of the latest scan-all execution (its planner task not counted). */
  async scanAllMetrics(trigger?: JobTrigger): Promise<Record<string, unknown>> {
    const ex = await this.latestScanAll(trigger);
    if (!ex) return {};
    const tasks = (await this.o.jobs.listTasks(ex.id)).filter((t) => t.jobType === SCAN_JOB);
    const metrics: Record<string, number> = { Pending: 0, Running: 0, Success: 0, Error: 0, Stopped: 0 };
    for (const t of tasks) metrics[t.status] = (metrics[t.status] ?? 0) + 1;
    const completed = metrics.Success + metrics.Error + metrics.Stopped;
    const final = ['Success', 'Error', 'Stopped'].includes(ex.status);
    return {
      total: tasks.length,
      completed,
      metrics,
      ongoing: !final || tasks.length !== completed,
      trigger: ex.trigger.charAt(0).toUpperCase() + ex.trigger.slice(1),
    };
  }

  async stopScanAll(): Promise<void> {
    const ex = await this.latestScanAll();
    if (!ex) throw ApiErrors.badRequest('no scan all job is found currently');
    await this.o.jobs.stop(ex.id);
    for (const r of await this.o.reports.listReportsOfExecution(ex.id)) if (!FINAL.has(r.status)) await this.finish(r.id, 'Stopped', 'scan all stopped');
  }

  /** The SCAN_ALL planner: one report and one IMAGE_SCAN task per scannable top-level artifact. */
  private async runScanAll(ctx: JobContext): Promise<Record<string, unknown>> {
    let after = 0;
    let queued = 0;
    let skipped = 0;
    const scannerOf = new Map<number, ScannerRow | null>();
    for (;;) {
      if (ctx.signal.aborted) break;
      const page = await this.o.reports.listScanCandidates(after, 200, SCANNABLE_TYPES);
      if (!page.length) break;
      after = page[page.length - 1].id;
      const tasks: ScanParams[] = [];
      for (const c of page) {
        if (!ScanService.scannable(c)) continue;
        let s = scannerOf.get(c.projectId);
        if (s === undefined) {
          s = await this.o.scanners.ofProject(c.projectId);
          if (s && (!s.immutable || s.disabled)) {
            ctx.log(`project ${c.projectName}: its scanner ${s.name} cannot scan with Berth yet, skipped`);
            s = null;
          }
          scannerOf.set(c.projectId, s);
        }
        if (!s) {
          skipped++;
          continue;
        }
        const prev = await this.o.reports.findReportOf(c.digest, s.uuid, REPORT_MIME);
        if (prev && !FINAL.has(prev.status)) {
          skipped++;
          continue;
        }
        const id = randomUUID();
        await this.o.reports.saveReport({ id, digest: c.digest, registrationUuid: s.uuid, mimeType: REPORT_MIME, status: 'Pending', executionId: ctx.executionId, taskId: null, projectId: c.projectId, repository: c.repository, startTime: Date.now() });
        tasks.push({ report_id: id, digest: c.digest, media_type: c.mediaType, repository: c.repository, project_id: c.projectId, project_name: c.projectName, project_public: c.projectPublic, tags: [], operator: '' });
      }
      if (tasks.length) await this.o.jobs.addTasks(ctx.executionId, SCAN_JOB, tasks);
      queued += tasks.length;
      await ctx.heartbeat();
    }
    ctx.log(`queued ${queued} scans (${skipped} skipped)`);
    return { queued, skipped };
  }

  // ---- prevent_vul -----------------------------------------------------------------------------------------------

  /**
   * Harbor's vulnerable middleware for a manifest GET: with `prevent_vul`, an artifact with a vulnerability at or
   * above the project's severity that no effective allowlist exempts is refused (412 PROJECTPOLICYVIOLATION), and so
   * is a scannable one without a report or whose scan is not a success.
   */
  async checkPull(project: { id: number }, manifest: { digest: string; mediaType: string; content?: Buffer }, opts: { bypass?: boolean } = {}): Promise<void> {
    const md = await this.o.projects.findProjectMetadata(project.id);
    if (!truthy(md.prevent_vul)) return;
    if (opts.bypass) return;
    const sev = projectSeverity(md.severity);
    const violation = (msg: string) => new RegistryError('PROJECTPOLICYVIOLATION', msg);
    const r = await this.reportOf(project.id, manifest.digest);
    if (!r) {
      let config: string | null = null;
      if (!INDEX_TYPES.has(manifest.mediaType) && manifest.content) {
        try {
          config = (JSON.parse(manifest.content.toString('utf8')) as { config?: { mediaType?: string } }).config?.mediaType ?? null;
        } catch {
          config = null;
        }
      }
      if (!ScanService.scannable({ mediaType: manifest.mediaType, configMediaType: config })) return;
      throw violation(
        `current image without vulnerability scanning cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "${sev}" or higher from running.' To continue with pull, please contact your project administrator for help.`,
      );
    }
    // Harbor skips an image index (its children are checked when they are pulled).
    if (INDEX_TYPES.has(manifest.mediaType)) return;
    if (r.status !== 'Success')
      throw violation(
        `current image with "${r.status}" status of vulnerability scanning cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "${sev}" or higher from running.' To continue with pull, please contact your project administrator for help.`,
      );
    const allow = await this.effectiveAllowlist(project.id, md);
    let count = 0;
    let top: Severity | null = null;
    for (const f of await this.findingsOf(r)) {
      if (allow.has(f.id)) continue;
      count++;
      if (top === null || rank(f.severity) > rank(top)) top = f.severity;
    }
    if (top !== null && rank(top) >= rank(sev)) {
      throw violation(
        `current image with ${count} ${count > 1 ? 'vulnerabilities' : 'vulnerability'} cannot be pulled due to configured policy in 'Prevent images with vulnerability severity of "${sev}" or higher from running.' To continue with pull, please contact your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist.`,
      );
    }
  }

  /** The project's allowlist, or the system's when `reuse_sys_cve_allowlist` (the default); empty when expired. */
  private async effectiveAllowlist(projectId: number, md: Record<string, string>): Promise<Set<string>> {
    const reuse = md.reuse_sys_cve_allowlist === undefined ? true : truthy(md.reuse_sys_cve_allowlist);
    const l = reuse ? await this.o.systemAllowlist.findSystemAllowlist() : await this.o.allowlists.findAllowlist(projectId);
    if (!l) return new Set();
    if (l.expiresAt !== null && l.expiresAt * 1000 < Date.now()) return new Set();
    return new Set(l.items.map((i) => i.cve_id));
  }
}
