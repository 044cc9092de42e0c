// Harbor's `scanner` (registrations), `scan` (an artifact's scan, stop, log), `scanAll` (schedule, stop, metrics)
// and `SystemCVEAllowlist` tags (handler/scanner.go, scan.go, scan_all.go, cve_allowlist.go). Registrations are
// system admin business; scans need the project's scan permissions. Credentials are never shown ("*****" when set).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import { cronForHarborSchedule, harborScheduleType, type HarborScheduleType } from '../../services/jobs/job-service.ts';
import { checkCveAllowlist } from '../../services/project/project-service.ts';
import type { SystemCveAllowlistRepository } from '../../repositories/cve-allowlist-repository.ts';
import type { ArtifactService } from '../../services/artifact/artifact-service.ts';
import { SCAN_ALL_JOB, type ScanService } from '../../services/scan/scan-service.ts';
import type { ScannerService, ScannerView } from '../../services/scan/scanner-service.ts';
import { SECRET_MASK } from '../../services/security/secret-box.ts';
import { isoTime, ZERO_TIME } from '../../time.ts';
import { principalName } from '../../services/auth/principal.ts';
import { projectFor, repoParam } from './artifact-access.ts';
import { API_PREFIX, bodyObject, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { bodyOf, bool, CREATED, dateTime, EMPTY, int, mapOf, obj, op, PAGED, pageQuery, SCHEDULE_OBJ, str, TEXT } from './schemas.ts';

export const SCANNER_REGISTRATION = obj({
  uuid: str('The unique identifier of this registration.'),
  name: str('The name of this registration.'),
  description: str('An optional description of this registration.'),
  url: { type: 'string', format: 'uri', description: 'A base URL of the scanner adapter' },
  disabled: bool('Indicate whether the registration is enabled or not'),
  is_default: bool('Indicate if the registration is set as the system default one'),
  auth: str('Specify what authentication approach is adopted for the HTTP communications.'),
  access_credential: str('Never returned: "*****" when one is set.'),
  skip_certVerify: bool('Indicate if skip the certificate verification when sending HTTP requests'),
  use_internal_addr: bool('Indicate whether use internal registry addr for the scanner to pull content or not'),
  create_time: { ...dateTime, description: 'The creation time of this registration' },
  update_time: { ...dateTime, description: 'The update time of this registration' },
  adapter: str('Optional property to describe the name of the scanner registration'),
  vendor: str('Optional property to describe the vendor of the scanner registration'),
  version: str('Optional property to describe the version of the scanner registration'),
  health: str('Indicate the healthy of the registration'),
  capabilities: { type: 'object', additionalProperties: true, description: 'Indicates the capabilities of the scanner, e.g. support_vulnerability or support_sbom.' },
});
const REGISTRATION_REQ = bodyOf('ScannerRegistrationReq', {
  name: str('The name of this registration'),
  description: str('An optional description of this registration.'),
  url: str('A base URL of the scanner adapter.'),
  auth: str('Basic, Bearer or X-ScannerAdapter-API-Key'),
  access_credential: str('An optional value of the HTTP Authorization header sent with each request to the Scanner Adapter API.'),
  skip_certVerify: bool('Indicate if skip the certificate verification when sending HTTP requests'),
  use_internal_addr: bool('Indicate whether use internal registry addr for the scanner to pull content or not'),
  disabled: bool('Indicate whether the registration is enabled or not'),
});
const PING_REQ = bodyOf('ScannerRegistrationSettings', {
  name: str('The name of this registration'),
  url: str('A base URL of the scanner adapter.'),
  auth: str('Basic, Bearer or X-ScannerAdapter-API-Key'),
  access_credential: str('An optional value of the HTTP Authorization header sent with each request to the Scanner Adapter API.'),
});
const METADATA = obj({
  scanner: obj({ name: str(), vendor: str(), version: str() }),
  capabilities: { type: 'array', items: obj({ type: str(), consumes_mime_types: { type: 'array', items: str() }, produces_mime_types: { type: 'array', items: str() } }) },
  properties: mapOf(str()),
});
const RID = { registration_id: str('The scanner registration identifier.') };
const STATS = obj({ total: int(), completed: int(), metrics: mapOf(int()), ongoing: bool(), trigger: str() });
const SCHEDULE = obj({ id: int(), status: str(), creation_time: dateTime, update_time: dateTime, schedule: SCHEDULE_OBJ, parameters: { type: 'object', additionalProperties: true } });
const SCHEDULE_BODY = bodyOf('Schedule', {
  schedule: obj({
    type: { type: 'string', enum: ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None', 'Schedule'] },
    cron: { type: ['string', 'null'], description: 'A cron expression, a time-based job scheduler' },
    next_scheduled_time: { type: ['string', 'null'], description: 'read-only, ignored' },
  }),
  parameters: { type: 'object', additionalProperties: true },
});
const ALLOWLIST = obj({
  id: int(),
  project_id: int(),
  expires_at: { type: ['integer', 'null'], description: 'the time for expiration of the allowlist, in the form of seconds since epoch.' },
  items: { type: 'array', items: obj({ cve_id: str() }) },
  creation_time: dateTime,
  update_time: dateTime,
});
const ART = {
  project_name: str('The name of the project'),
  repository_name: str('The name of the repository (a name with / is double URL-encoded)'),
  reference: str('The reference of the artifact, can be digest or tag'),
};
const SCAN_TYPE_BODY = bodyOf('ScanType', { scan_type: { type: 'string', enum: ['vulnerability', 'sbom'] } });

const S = {
  list: op({ operationId: 'listScanners', tag: 'scanner', summary: 'List scanner registrations', query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(SCANNER_REGISTRATION) }, errors: [400, 401, 403, 500] }),
  create: op({ operationId: 'createScanner', tag: 'scanner', summary: 'Create a scanner registration', body: REGISTRATION_REQ, ok: { 201: CREATED }, errors: [400, 401, 403, 500] }),
  ping: op({ operationId: 'pingScanner', tag: 'scanner', summary: 'Tests scanner registration settings', body: PING_REQ, ok: { 200: EMPTY() }, errors: [400, 401, 403, 500] }),
  get: op({ operationId: 'getScanner', tag: 'scanner', summary: 'Get a scanner registration details', params: RID, ok: { 200: SCANNER_REGISTRATION }, errors: [401, 403, 404, 500] }),
  update: op({ operationId: 'updateScanner', tag: 'scanner', summary: 'Update a scanner registration', params: RID, body: REGISTRATION_REQ, ok: { 200: EMPTY() }, errors: [401, 403, 404, 500] }),
  remove: op({ operationId: 'deleteScanner', tag: 'scanner', summary: 'Delete a scanner registration', params: RID, ok: { 200: SCANNER_REGISTRATION }, errors: [401, 403, 404, 500] }),
  setDefault: op({ operationId: 'setScannerAsDefault', tag: 'scanner', summary: 'Set system default scanner registration', params: RID, body: bodyOf('IsDefault', { is_default: bool() }), ok: { 200: EMPTY() }, errors: [401, 403, 500] }),
  metadata: op({ operationId: 'getScannerMetadata', tag: 'scanner', summary: 'Get the metadata of the specified scanner registration', params: RID, ok: { 200: METADATA }, errors: [401, 403, 500] }),
  scan: op({ operationId: 'scanArtifact', tag: 'scan', summary: 'Scan the artifact', params: ART, body: SCAN_TYPE_BODY, ok: { 202: EMPTY('Accepted') }, errors: [400, 401, 403, 404, 422, 500] }),
  stop: op({ operationId: 'stopScanArtifact', tag: 'scan', summary: 'Cancelling a scan job for a particular artifact', params: ART, body: SCAN_TYPE_BODY, ok: { 202: EMPTY('Accepted') }, errors: [400, 401, 403, 404, 422, 500] }),
  log: op({ operationId: 'getReportLog', tag: 'scan', summary: 'Get the log of the scan report', params: { ...ART, report_id: str('The report id to get the log') }, ok: { 200: TEXT('The scan log (text/plain)') }, errors: [400, 401, 403, 404, 500] }),
  allMetrics: op({ operationId: 'getLatestScanAllMetrics', tag: 'scanAll', summary: 'Get the metrics of the latest scan all process', ok: { 200: STATS }, errors: [401, 403, 412, 500] }),
  scheduleMetrics: op({ operationId: 'getLatestScheduledScanAllMetrics', tag: 'scanAll', summary: 'Get the metrics of the latest scheduled scan all process', ok: { 200: STATS }, errors: [401, 403, 412, 500] }),
  getSchedule: op({ operationId: 'getScanAllSchedule', tag: 'scanAll', summary: 'Get scan all\'s schedule.', ok: { 200: SCHEDULE }, errors: [401, 403, 412, 500] }),
  updateSchedule: op({ operationId: 'updateScanAllSchedule', tag: 'scanAll', summary: 'Update scan all\'s schedule.', body: SCHEDULE_BODY, ok: { 200: EMPTY() }, errors: [400, 401, 403, 412, 500] }),
  createSchedule: op({ operationId: 'createScanAllSchedule', tag: 'scanAll', summary: 'Create a schedule or a manual trigger for the scan all job.', body: SCHEDULE_BODY, ok: { 201: CREATED }, errors: [400, 401, 403, 409, 412, 500] }),
  stopAll: op({ operationId: 'stopScanAll', tag: 'scanAll', summary: 'Stop scanAll job execution', ok: { 202: EMPTY('Accepted') }, errors: [400, 401, 403, 500] }),
  getAllowlist: op({ operationId: 'getSystemCVEAllowlist', tag: 'SystemCVEAllowlist', summary: 'Get the system level allowlist of CVE.', ok: { 200: ALLOWLIST }, errors: [401, 500] }),
  putAllowlist: op({ operationId: 'putSystemCVEAllowlist', tag: 'SystemCVEAllowlist', summary: 'Update the system level allowlist of CVE.', body: bodyOf('CVEAllowlist', { id: int(), project_id: int(), expires_at: { type: ['integer', 'null'] }, items: { type: 'array', items: obj({ cve_id: str() }) } }), ok: { 200: EMPTY() }, errors: [401, 403, 500] }),
};

/** Harbor's ScannerRegistration JSON (model/scanner.go ToSwagger); the credential masked. */
export function scannerView(r: ScannerView) {
  return {
    uuid: r.uuid,
    name: r.name,
    description: r.description,
    url: r.url,
    disabled: r.disabled,
    is_default: r.isDefault,
    auth: r.auth,
    access_credential: r.accessCredential ? SECRET_MASK : '',
    skip_certVerify: r.skipCertVerify,
    use_internal_addr: r.useInternalAddr,
    create_time: isoTime(r.createdAt),
    update_time: isoTime(r.updatedAt),
    ...(r.adapter !== undefined ? { adapter: r.adapter } : {}),
    ...(r.vendor !== undefined ? { vendor: r.vendor } : {}),
    ...(r.version !== undefined ? { version: r.version } : {}),
    ...(r.health !== undefined ? { health: r.health } : {}),
    ...(r.capabilities !== undefined ? { capabilities: r.capabilities } : {}),
  };
}

export interface ScanApiDeps extends ApiDeps {
  scanners: ScannerService;
  scans: ScanService;
  systemAllowlist: SystemCveAllowlistRepository;
  artifacts: ArtifactService;
}

type ArtReq = FastifyRequest<{ Params: { project_name: string; repository_name: string; reference: string; report_id?: string } }>;
type IdReq = FastifyRequest<{ Params: { registration_id: string } }>;

/** Harbor's scan body is optional (swagger `required: false`): no body is an empty one. */
const optionalBody = async (req: FastifyRequest) => {
  if (req.body === undefined || req.body === null) req.body = {};
};

/** The scan type of a scan/stop body: vulnerability (the default); Berth does not generate SBOMs yet. */
function scanType(req: FastifyRequest): void {
  const b = req.body;
  if (b === undefined || b === null) return;
  if (typeof b !== 'object' || Array.isArray(b)) throw ApiErrors.badRequest('a JSON object body is required');
  const t = (b as Record<string, unknown>).scan_type;
  if (t === undefined || t === null || t === '' || t === 'vulnerability') return;
  if (t === 'sbom') throw ApiErrors.badRequest('scan type sbom is not supported: Berth does not generate SBOMs yet');
  throw ApiErrors.badRequest(`invalid scan type ${String(t).slice(0, 32)}`);
}

export async function scannerRoutes(app: FastifyInstance, deps: ScanApiDeps, auth: ApiAuth): Promise<void> {
  const { scanners, scans, jobs } = deps;

  // ---- registrations

  app.get('/scanners', { schema: S.list }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true }, description: { type: 'string', fuzzy: true }, url: { type: 'string', fuzzy: true } } as const);
    // Harbor's extra keyword parameters: fuzzy name/description/url, exact ex_name/ex_url.
    for (const k of ['name', 'description', 'url'] as const) {
      const v = q.get(k);
      if (v) where[k] = { op: 'like', value: v.slice(0, 255) };
    }
    for (const k of ['name', 'url'] as const) {
      const v = q.get(`ex_${k}`);
      if (v) where[k] = { op: 'eq', value: v.slice(0, 512) };
    }
    const sort = parseSort(q.get('sort'), ['name', 'creation_time', 'update_time'] as const);
    const r = await scanners.list({ where, sort, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(scannerView);
  });

  app.post('/scanners', { schema: S.create }, async (req, reply) => {
    await auth.sysadmin(req);
    const uuid = await scanners.create(bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/scanners/${uuid}`).send();
  });

  app.post('/scanners/ping', { schema: S.ping }, async (req, reply) => {
    await auth.sysadmin(req);
    await scanners.ping(bodyObject(req));
    return reply.code(200).send();
  });

  app.get('/scanners/:registration_id', { schema: S.get }, async (req: IdReq) => {
    await auth.sysadmin(req);
    return scannerView(await scanners.get(req.params.registration_id));
  });

  app.put('/scanners/:registration_id', { schema: S.update }, async (req: IdReq, reply) => {
    await auth.sysadmin(req);
    await scanners.update(req.params.registration_id, bodyObject(req));
    return reply.code(200).send();
  });

  app.delete('/scanners/:registration_id', { schema: S.remove }, async (req: IdReq) => {
    await auth.sysadmin(req);
    return scannerView(await scanners.remove(req.params.registration_id));
  });

  app.patch('/scanners/:registration_id', { schema: S.setDefault }, async (req: IdReq, reply) => {
    await auth.sysadmin(req);
    const b = bodyObject(req);
    if (b.is_default !== undefined && typeof b.is_default !== 'boolean') throw ApiErrors.badRequest('is_default must be a boolean');
    // Harbor: only `true` does something (there is always one default; another is made default instead).
    if (b.is_default === true) await scanners.setDefault(req.params.registration_id);
    else await scanners.find(req.params.registration_id);
    return reply.code(200).send();
  });

  app.get('/scanners/:registration_id/metadata', { schema: S.metadata }, async (req: IdReq) => {
    await auth.sysadmin(req);
    return scanners.metadata(req.params.registration_id);
  });

  // ---- an artifact's scan

  const base = '/projects/:project_name/repositories/:repository_name/artifacts/:reference';
  const target = async (req: ArtReq, needed: 'scan:create' | 'scan:stop' | 'scan:read') => {
    const { project, caller } = await projectFor(deps, auth, req, req.params.project_name, needed);
    const loc = await deps.artifacts.locate(project, repoParam(req.params.repository_name));
    const row = await deps.artifacts.resolve(loc.repo, req.params.reference);
    return {
      caller,
      target: {
        projectId: project.id,
        projectName: project.name,
        projectPublic: project.public,
        repository: loc.repo.name,
        digest: row.digest,
        mediaType: row.mediaType,
        configMediaType: row.configMediaType,
        artifactType: row.artifactType,
        tags: req.params.reference.includes(':') ? [] : [req.params.reference],
        size: row.size,
      },
    };
  };

  app.post(`${base}/scan`, { schema: S.scan, preValidation: optionalBody }, async (req: ArtReq, reply) => {
    scanType(req);
    const { caller, target: t } = await target(req, 'scan:create');
    await scans.submit(t, principalName(caller), 'manual');
    return reply.code(202).send();
  });

  app.post(`${base}/scan/stop`, { schema: S.stop, preValidation: optionalBody }, async (req: ArtReq, reply) => {
    scanType(req);
    const { caller, target: t } = await target(req, 'scan:stop');
    await scans.stop(t, principalName(caller));
    return reply.code(202).send();
  });

  app.get(`${base}/scan/:report_id/log`, { schema: S.log }, async (req: ArtReq, reply) => {
    const { target: t } = await target(req, 'scan:read');
    const text = await scans.log(t.projectId, t.digest, req.params.report_id ?? '');
    return reply.header('Content-Type', 'text/plain; charset=utf-8').serializer((x: unknown) => x as string).send(text);
  });

  // ---- scan all

  app.get('/scans/all/metrics', { schema: S.allMetrics }, async (req) => {
    await auth.sysadmin(req);
    return scans.scanAllMetrics();
  });
  app.get('/scans/schedule/metrics', { schema: S.scheduleMetrics }, async (req) => {
    await auth.sysadmin(req);
    return scans.scanAllMetrics('schedule');
  });

  app.get('/system/scanAll/schedule', { schema: S.getSchedule }, async (req) => {
    await auth.sysadmin(req);
    const s = await jobs.getSchedule(SCAN_ALL_JOB);
    if (!s) return {};
    return {
      id: s.id,
      status: '',
      creation_time: isoTime(s.creationTime),
      update_time: isoTime(s.updateTime),
      schedule: { type: harborScheduleType(s.cron), cron: s.cron, ...(s.nextRunAt ? { next_scheduled_time: isoTime(s.nextRunAt) } : {}) },
      parameters: s.params,
    };
  });

  const scheduleOf = (req: FastifyRequest): { type: HarborScheduleType | 'Schedule'; cron: string } => {
    const b = bodyObject(req);
    const s = b.schedule;
    if (!s || typeof s !== 'object' || Array.isArray(s)) throw ApiErrors.badRequest('schedule is required');
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string' || !['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None', 'Schedule'].includes(type)) throw ApiErrors.badRequest(`invalid schedule type ${String(type).slice(0, 32)}`);
    if (o.cron !== undefined && typeof o.cron !== 'string') throw ApiErrors.badRequest('cron must be a string');
    return { type: type as HarborScheduleType, cron: (o.cron as string | undefined) ?? '' };
  };
  const cronOf = (type: string, cron: string): string => {
    // Harbor's "Schedule" type means a cron expression as given, like Custom.
    const c = cronForHarborSchedule((type === 'Schedule' ? 'Custom' : type) as HarborScheduleType, cron);
    if (!c) throw ApiErrors.badRequest(`invalid schedule type ${type}`);
    return c;
  };

  app.post('/system/scanAll/schedule', { schema: S.createSchedule }, async (req, reply) => {
    await auth.sysadmin(req);
    const s = scheduleOf(req);
    if (s.type === 'Manual') await scans.scanAll('manual');
    else if (s.type !== 'None') {
      if (await jobs.getSchedule(SCAN_ALL_JOB))
        throw ApiErrors.precondition('fail to set schedule for scan all as always had one, please delete it firstly then to re-schedule');
      await jobs.schedule(SCAN_ALL_JOB, cronOf(s.type, s.cron));
    }
    return reply.code(201).send();
  });

  app.put('/system/scanAll/schedule', { schema: S.updateSchedule }, async (req, reply) => {
    await auth.sysadmin(req);
    const s = scheduleOf(req);
    if (s.type === 'Manual') throw ApiErrors.badRequest(`fail to update scan all schedule as wrong schedule type: ${s.type}`);
    if (s.type === 'None') await jobs.unschedule(SCAN_ALL_JOB);
    else await jobs.schedule(SCAN_ALL_JOB, cronOf(s.type, s.cron));
    return reply.code(200).send();
  });

  app.post('/system/scanAll/stop', { schema: S.stopAll }, async (req, reply) => {
    await auth.sysadmin(req);
    await scans.stopScanAll();
    return reply.code(202).send();
  });

  // ---- the system CVE allowlist

  app.get('/system/CVEAllowlist', { schema: S.getAllowlist }, async (req) => {
    // Harbor: any authenticated caller may read it (the portal shows it in project settings).
    const p = await auth.principal(req);
    if (p.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    const l = await deps.systemAllowlist.findSystemAllowlist();
    return {
      id: l ? 1 : 0,
      project_id: 0,
      ...(l?.expiresAt !== null && l?.expiresAt !== undefined ? { expires_at: l.expiresAt } : {}),
      items: l?.items ?? [],
      creation_time: l ? isoTime(l.createdAt) : ZERO_TIME,
      update_time: l ? isoTime(l.updatedAt) : ZERO_TIME,
    };
  });

  app.put('/system/CVEAllowlist', { schema: S.putAllowlist }, async (req, reply) => {
    await auth.sysadmin(req);
    const l = checkCveAllowlist(bodyObject(req), 0) ?? { expiresAt: null, items: [] };
    await deps.systemAllowlist.saveSystemAllowlist(l);
    return reply.code(200).send();
  });
}
