// Harbor's installer configuration (harbor.yml, 1.8 … 2.15) read as Berth's configuration: each harbor.yml key is
// mapped onto Berth's dotted config keys, noted (meaningful in Harbor, handled by Berth without a setting) or
// unsupported (named in one warning at start). Nothing in the file is dropped without being named.

/** Top-level keys only a harbor.yml has (Berth's own file uses data_dir, auth.*, …). */
const HARBOR_MARKERS = ['hostname', 'harbor_admin_password', 'data_volume', '_version', 'external_database', 'storage_service', 'external_url'];

export function isHarborYml(doc: unknown): boolean {
  return !!doc && typeof doc === 'object' && !Array.isArray(doc) && HARBOR_MARKERS.some((k) => k in (doc as object));
}

export interface HarborMapping {
  /** Berth dotted key → value (validated afterwards by loadConfig like any file value). */
  given: Record<string, unknown>;
  /** Berth dotted key → the harbor.yml key it came from, so validation errors name the key the operator wrote. */
  origin: Record<string, string>;
  /** harbor.yml key → Berth key(s) it set, for `berth config`. */
  mapped: Record<string, string>;
  /** harbor.yml key → why Berth needs no setting for it. */
  noted: Record<string, string>;
  /** harbor.yml key → why it is not supported (ignored, with one warning at start). */
  unsupported: Record<string, string>;
  /** Wrong types, named by harbor.yml key: Berth does not start. */
  problems: string[];
}

export interface HarborMapOptions {
  /** The Berth keys known to this build (S3 keys arrive with the S3 storage driver). */
  knownKeys: ReadonlySet<string>;
  /** Values a key of `storage.type` accepts. */
  storageTypes: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
/** An empty value (`http_proxy:`) sets nothing, in Harbor as here. */
const isEmpty = (v: unknown) => v === null || v === undefined || v === '';

/** Go's time.Duration text ("168h", "5m0s", "1h30m", "90s") → whole seconds; null when it is not one. */
export function parseGoDuration(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v === 0 ? 0 : null; // a bare number has no unit (0 is fine)
  if (typeof v !== 'string') return null;
  const s = v.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]];
    at = re.lastIndex;
  }
  return at === s.length && s.length > 0 ? Math.round(total) : null;
}

export function mapHarborYml(doc: Obj, opts: HarborMapOptions): HarborMapping {
  const r: HarborMapping = { given: {}, origin: {}, mapped: {}, noted: {}, unsupported: {}, problems: [] };
  const seen = new Set<string>();
  const get = (path: string): unknown => {
    let cur: unknown = doc;
    for (const part of path.split('.')) cur = isObj(cur) ? cur[part] : undefined;
    return cur;
  };
  const set = (berthKey: string, value: unknown, harborKey: string) => {
    r.given[berthKey] = value;
    r.origin[berthKey] = harborKey;
    r.mapped[harborKey] = r.mapped[harborKey] ? `${r.mapped[harborKey]}, ${berthKey}` : berthKey;
  };
  const use = (harborKey: string) => seen.add(harborKey);
  /** harbor key straight onto a Berth key (the loader checks its type and range). */
  const direct = (harborKey: string, berthKey: string, conv: (v: unknown) => unknown = (v) => v) => {
    use(harborKey);
    const v = get(harborKey);
    if (!isEmpty(v)) set(berthKey, conv(v), harborKey);
  };
  const note = (harborKey: string, why: string) => {
    use(harborKey);
    if (get(harborKey) !== undefined) r.noted[harborKey] = why;
  };
  const str = (harborKey: string): string | undefined => {
    use(harborKey);
    const v = get(harborKey);
    if (isEmpty(v)) return undefined;
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    r.problems.push(`${harborKey}: expected a string, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const int = (harborKey: string): number | undefined => {
    use(harborKey);
    const v = get(harborKey);
    if (isEmpty(v)) return undefined;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (Number.isInteger(n)) return n;
    r.problems.push(`${harborKey}: expected an integer, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const bool = (harborKey: string): boolean | undefined => {
    use(harborKey);
    const v = get(harborKey);
    if (isEmpty(v)) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    r.problems.push(`${harborKey}: expected true or false, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const duration = (harborKey: string): number | undefined => {
    use(harborKey);
    const v = get(harborKey);
    if (isEmpty(v)) return undefined;
    const d = parseGoDuration(v);
    if (d === null) r.problems.push(`${harborKey}: expected a duration such as 24h or 30m, got ${JSON.stringify(v)}`);
    return d ?? undefined;
  };
  for (const section of ['http', 'https', 'database', 'external_database', 'external_database.harbor', 'storage_service', 'jobservice', 'log', 'log.local', 'metric', 'notification', 'trivy', 'upload_purging', 'cache', 'proxy']) {
    const v = get(section);
    if (v !== undefined && v !== null && !isObj(v)) r.problems.push(`${section}: expected a mapping, got ${JSON.stringify(v)}`);
  }

  // --- listeners and the public URL ----------------------------------------------------------------------------
  const cert = str('https.certificate');
  const key = str('https.private_key');
  const tls = !!(cert || key);
  // Ports the file leaves out get Harbor's defaults (80, 443), so the listeners and the URL built from hostname agree.
  let httpPort = int('http.port');
  let httpsPort = int('https.port');
  if (httpPort === undefined && isObj(get('http'))) httpPort = 80;
  if (httpsPort === undefined && tls) httpsPort = 443;
  if (httpPort !== undefined) set('http.port', httpPort, 'http.port');
  if (tls) {
    if (cert !== undefined) set('https.certificate', cert, 'https.certificate');
    if (key !== undefined) set('https.private_key', key, 'https.private_key');
    if (httpsPort !== undefined) set('https.port', httpsPort, 'https.port');
    // Harbor's nginx answers the http port with a redirect once https is configured.
    if (httpPort !== undefined) set('https.redirect_http', 'true', 'http.port');
  } else if (httpsPort !== undefined) r.unsupported['https.port'] = 'no https.certificate / https.private_key given';
  const strong = bool('https.strong_ssl_ciphers');
  if (strong !== undefined) r.noted['https.strong_ssl_ciphers'] = "Node's default TLS 1.2+ cipher list is used (no weak ciphers)";
  const external = str('external_url');
  const hostname = str('hostname');
  if (external !== undefined) {
    set('http.external_url', external, 'external_url');
    if (hostname !== undefined) r.noted.hostname = 'external_url is set, so hostname is not used (as in Harbor)';
  } else if (hostname !== undefined) {
    const port = tls ? httpsPort ?? 443 : httpPort ?? 80;
    const dflt = tls ? 443 : 80;
    const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
    set('http.external_url', `${tls ? 'https' : 'http'}://${host}${port === dflt ? '' : `:${port}`}`, 'hostname');
  }

  // --- identity -------------------------------------------------------------------------------------------------
  direct('harbor_admin_password', 'auth.admin_initial_password');

  // --- database -------------------------------------------------------------------------------------------------
  const ext = get('external_database.harbor');
  if (isObj(ext)) {
    const host = str('external_database.harbor.host');
    const port = int('external_database.harbor.port');
    const db = str('external_database.harbor.db_name');
    const user = str('external_database.harbor.username');
    const pass = str('external_database.harbor.password');
    const ssl = str('external_database.harbor.ssl_mode');
    if (!host) r.problems.push('external_database.harbor.host: required for an external database');
    else {
      const auth = user ? `${encodeURIComponent(user)}${pass ? `:${encodeURIComponent(pass)}` : ''}@` : '';
      const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
      const url = `postgres://${auth}${h}${port ? `:${port}` : ''}/${encodeURIComponent(db ?? 'registry')}${ssl ? `?sslmode=${encodeURIComponent(ssl)}` : ''}`;
      set('database.type', 'postgres', 'external_database.harbor');
      for (const k of ['host', 'port', 'db_name', 'username', 'password', 'ssl_mode']) r.mapped[`external_database.harbor.${k}`] = 'database.postgres.url';
      r.given['database.postgres.url'] = url;
      r.origin['database.postgres.url'] = 'external_database.harbor';
    }
    const maxOpen = int('external_database.harbor.max_open_conns');
    // Harbor: <= 0 means no limit; Berth's pool needs one, so the default stays.
    if (maxOpen !== undefined && maxOpen > 0) set('database.postgres.max_connections', maxOpen, 'external_database.harbor.max_open_conns');
    else if (maxOpen !== undefined) r.noted['external_database.harbor.max_open_conns'] = `${maxOpen} (no limit in Harbor): Berth keeps its pool size (database.postgres.max_connections)`;
    note('external_database.harbor.max_idle_conns', 'the pool keeps idle connections itself');
    note('external_database.harbor.conn_max_lifetime', 'the pool manages connection lifetimes itself');
    note('external_database.harbor.conn_max_idle_time', 'the pool manages idle connections itself');
  }
  // Harbor's bundled PostgreSQL: Berth embeds SQLite instead, which has no password or pool.
  const bundled = isObj(ext) ? 'external_database.harbor is used instead' : "Berth's embedded database (SQLite) has no password or connection pool";
  note('database.password', bundled);
  note('database.max_idle_conns', bundled);
  if (int('database.max_open_conns') !== undefined) r.noted['database.max_open_conns'] = bundled;
  note('database.conn_max_lifetime', bundled);
  note('database.conn_max_idle_time', bundled);

  // --- storage --------------------------------------------------------------------------------------------------
  direct('data_volume', 'data_dir');
  direct('storage_service.filesystem.rootdirectory', 'storage.filesystem.root');
  note('storage_service.filesystem.maxthreads', 'Node does its file I/O on its own thread pool');
  const s3 = get('storage_service.s3');
  // LEAD: the S3 driver (storage.type s3, storage.s3.*) is being added on a parallel branch. This mapping switches
  // itself on once those keys are in KEYS; until then every storage_service.s3 key is reported as unsupported.
  const s3Ready = opts.storageTypes.includes('s3') && opts.knownKeys.has('storage.s3.bucket');
  if (isObj(s3)) {
    if (s3Ready) {
      set('storage.type', 's3', 'storage_service.s3');
      const s3Map: Record<string, string> = {
        accesskey: 'storage.s3.access_key',
        secretkey: 'storage.s3.secret_key',
        region: 'storage.s3.region',
        regionendpoint: 'storage.s3.endpoint',
        bucket: 'storage.s3.bucket',
        rootdirectory: 'storage.s3.root_directory',
        forcepathstyle: 'storage.s3.force_path_style',
        chunksize: 'storage.s3.chunk_size',
      };
      for (const [hk, bk] of Object.entries(s3Map)) {
        if (!opts.knownKeys.has(bk)) continue;
        direct(`storage_service.s3.${hk}`, bk, (v) => (typeof v === 'boolean' ? String(v) : v));
      }
      const disable = bool('storage_service.redirect.disable');
      if (disable !== undefined && opts.knownKeys.has('storage.s3.redirect')) set('storage.s3.redirect', String(!disable), 'storage_service.redirect.disable');
    }
  }
  if (!s3Ready || !isObj(s3)) note('storage_service.redirect.disable', 'the filesystem store serves blobs itself (no redirects)');
  for (const driver of ['s3', 'azure', 'gcs', 'swift', 'oss']) {
    if (driver === 's3' && s3Ready) continue;
    if (get(`storage_service.${driver}`) !== undefined) r.unsupported[`storage_service.${driver}`] = `the ${driver} storage driver is not available in this Berth (filesystem only)`;
    use(`storage_service.${driver}`);
  }

  // --- jobs, logs, metrics, webhooks ----------------------------------------------------------------------------
  direct('jobservice.max_job_workers', 'jobservice.max_job_workers');
  note('jobservice.job_loggers', 'job logs are kept in the database and served by the API');
  note('jobservice.logger_sweeper_duration', 'job logs are removed with their executions');
  use('jobservice.max_job_duration_hours');
  if (get('jobservice.max_job_duration_hours') !== undefined)
    r.unsupported['jobservice.max_job_duration_hours'] = 'jobs have no time limit (a dead worker\'s task runs again after jobservice.task_lease)';
  const level = str('log.level');
  // Harbor's levels are debug, info, warning, error, fatal.
  if (level !== undefined) set('log.level', level === 'warning' ? 'warn' : level, 'log.level');
  // Harbor's local log (log.local.*; log.* in 1.8): Berth writes <location>/berth.log and rotates it the same way.
  for (const prefix of ['log.local', 'log']) {
    direct(`${prefix}.rotate_count`, 'log.rotate_count');
    direct(`${prefix}.rotate_size`, 'log.rotate_size', (v) => (typeof v === 'number' ? v : String(v)));
    use(`${prefix}.location`);
    const loc = get(`${prefix}.location`);
    if (!isEmpty(loc)) set('log.file', `${String(loc).replace(/\/+$/, '')}/berth.log`, `${prefix}.location`);
  }
  const syslog = get('log.external_endpoint');
  use('log.external_endpoint');
  if (syslog !== undefined && syslog !== null)
    r.unsupported['log.external_endpoint'] = 'Berth writes its log to stdout; audit events can go to syslog with the runtime setting audit_log_forward_endpoint';
  direct('metric.enabled', 'metric.enabled', (v) => (typeof v === 'boolean' ? String(v) : v));
  direct('metric.port', 'metric.port');
  direct('metric.path', 'metric.path');
  direct('notification.webhook_job_max_retry', 'notification.webhook_job_max_retry');
  direct('notification.webhook_job_http_client_timeout', 'notification.webhook_job_http_client_timeout');

  // --- upload purging -------------------------------------------------------------------------------------------
  const purgeOn = bool('upload_purging.enabled');
  if (purgeOn === false) r.unsupported['upload_purging.enabled'] = 'Berth always purges idle uploads (registry.upload_idle_timeout)';
  else if (purgeOn === true) r.noted['upload_purging.enabled'] = 'Berth always purges idle uploads';
  const age = duration('upload_purging.age');
  if (age !== undefined) set('registry.upload_idle_timeout', age, 'upload_purging.age');
  const interval = duration('upload_purging.interval');
  if (interval !== undefined) set('registry.upload_purge_interval', interval, 'upload_purging.interval');
  const dry = bool('upload_purging.dryrun');
  if (dry === true) r.unsupported['upload_purging.dryrun'] = 'the purge has no dry-run mode';
  else if (dry === false) r.noted['upload_purging.dryrun'] = 'the purge removes what it finds';

  // --- scanner --------------------------------------------------------------------------------------------------
  const skip = bool('trivy.skip_update');
  // Berth's scanner updates advisories only from scanner.advisories; skip_update stops the scheduled update.
  if (skip === true) set('scanner.advisories_update_interval', 0, 'trivy.skip_update');
  else if (skip === false) r.noted['trivy.skip_update'] = 'advisory updates follow scanner.advisories / scanner.advisories_update_interval';
  const trivy = get('trivy');
  if (isObj(trivy))
    for (const k of Object.keys(trivy)) if (k !== 'skip_update') note(`trivy.${k}`, 'handled by the built-in scanner (no Trivy to configure; it never calls out while scanning)');

  // --- what one Node process does without configuration ---------------------------------------------------------
  note('_version', 'format version of the harbor.yml file');
  note('cache', 'Berth caches in-process and needs no Redis cache layer');
  note('redis', 'Berth keeps its shared state in the database and needs no Redis');
  note('external_redis', 'Berth keeps its shared state in the database and needs no Redis');
  note('internal_tls', 'Berth is one process: there is no traffic between components to encrypt');
  note('core.quota_update_provider', 'quota usage is updated in the database');

  const proxySet = ['proxy.http_proxy', 'proxy.https_proxy', 'proxy.no_proxy', 'clair.http_proxy', 'clair.https_proxy', 'clair.no_proxy'];
  for (const k of proxySet) {
    use(k);
    if (!isEmpty(get(k))) r.unsupported[k] = 'no outbound HTTP proxy support';
  }
  const anyProxy = proxySet.some((k) => !isEmpty(get(k)));
  if (anyProxy) {
    use('proxy.components');
    if (get('proxy.components') !== undefined) r.unsupported['proxy.components'] = 'no outbound HTTP proxy support';
  } else note('proxy.components', 'no proxy is configured');

  // Every remaining leaf that was not looked at is unsupported: named, never silently dropped.
  const walk = (v: unknown, path: string) => {
    if (seen.has(path) || r.noted[path] || r.unsupported[path]) return;
    // A section whose keys were all looked at, or an unknown section with keys, is walked key by key.
    if (isObj(v) && Object.keys(v).length) {
      for (const [k, c] of Object.entries(v)) walk(c, path ? `${path}.${k}` : k);
      return;
    }
    if (!path) return;
    if (isEmpty(v)) return; // an empty value sets nothing
    r.unsupported[path] = reasonFor(path);
  };
  walk(doc, '');
  return r;
}

function reasonFor(path: string): string {
  const top = path.split('.')[0];
  const reasons: Record<string, string> = {
    clair: 'Clair was removed from Harbor; Berth has a built-in scanner',
    notary: 'Notary was removed from Harbor; Berth verifies cosign/notation signatures',
    chart: 'ChartMuseum was removed from Harbor; push Helm charts as OCI artifacts',
    trace: 'tracing is not available',
    ip_family: 'listen addresses are set with http.host',
    uaa: 'UAA authentication is not available',
  };
  return reasons[top] ?? 'not available in Berth';
}
