// Configuration: one YAML file plus BERTH_* environment overrides, validated once into a frozen object.
// The object is passed down explicitly; nothing reads process.env after start.
import { readFileSync, mkdirSync, accessSync, constants } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { resolve, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { OutboundGuard } from '../drivers/http/outbound-guard.ts';
import { isHarborYml, mapHarborYml } from './harbor-yml.ts';

export interface Config {
  readonly dataDir: string;
  readonly http: {
    readonly host: string;
    readonly port: number;
    /** Public base URL (scheme://host[:port]); when empty it is derived from each request's Host header. */
    readonly externalUrl: string;
    /** CA certificate file served by GET /api/v2.0/systeminfo/getcert; empty = none (404, as Harbor without one). */
    readonly caCertFile: string;
    /** Slow-client limits (src/http/slow-clients.ts): a request body must bring `bodyMinRate` bytes/s in every window of `bodyTimeout` seconds (0 = off). */
    readonly bodyTimeout: number;
    readonly bodyMinRate: number;
    /** Open connections in all (0 = unlimited) and from one client address (0 = unlimited; behind a load balancer every client has its address). */
    readonly maxConnections: number;
    readonly maxConnectionsPerClient: number;
    /** Seconds SIGTERM waits for requests in flight (uploads) before their connections are cut. */
    readonly shutdownTimeout: number;
  };
  /** Built-in TLS: on when a certificate is configured; the main listener then speaks HTTPS (HTTP/2 + HTTP/1.1). */
  readonly https: {
    readonly enabled: boolean;
    readonly port: number;
    /** PEM files (the certificate may carry its chain); re-read on SIGHUP and when they change. */
    readonly certificate: string;
    readonly privateKey: string;
    /** Answer http.port with a redirect to HTTPS (harbor.yml's behaviour); off: no plain listener. */
    readonly redirectHttp: boolean;
    /** Offer HTTP/2 by ALPN (HTTP/1.1 clients still work). */
    readonly http2: boolean;
  };
  readonly database: {
    readonly type: 'sqlite' | 'postgres';
    readonly sqlitePath: string;
    readonly postgresUrl: string;
    readonly postgresMaxConnections: number;
  };
  readonly storage: StorageConfig;
  readonly auth: {
    /** Registry token lifetime in minutes (Harbor: token_expiration, default 30). */
    readonly tokenExpiration: number;
    /** Password for the built-in admin on first start; generated and printed when empty. */
    readonly adminInitialPassword: string;
    /** Whether anyone may create a local account with POST /api/v2.0/users (Harbor: self_registration). */
    readonly selfRegistration: boolean;
    /** Registry tokens: 'all' grants every action the caller holds on a requested repository (Harbor); 'requested' only the ones asked for. */
    readonly tokenGrant: 'all' | 'requested';
    /** Failed logins in a row that lock a username (0 = never). */
    readonly lockoutThreshold: number;
    /** How long a locked username stays locked, seconds. */
    readonly lockoutDuration: number;
    /** Portal sessions end after this many seconds without a request. */
    readonly sessionIdleTimeout: number;
    /** Portal sessions end this many seconds after login, however active. */
    readonly sessionLifetime: number;
  };
  readonly project: {
    /** Who may create projects (Harbor: project_creation_restriction). */
    readonly creationRestriction: 'everyone' | 'adminonly';
  };
  readonly registry: {
    readonly maxManifestSize: number;
    /** Idle upload sessions older than this many seconds are purged. */
    readonly uploadIdleTimeout: number;
    /** How often (seconds) the purge runs. */
    readonly uploadPurgeInterval: number;
    /** GC grace, seconds: links no manifest has referenced yet, untagged manifests and files without a row younger than this are kept. */
    readonly gcGrace: number;
    readonly catalogMaxEntries: number;
    readonly tagsMaxEntries: number;
  };
  readonly quota: {
    /** Storage limit of projects without their own, bytes (-1: unlimited). */
    readonly defaultStorageLimit: number;
  };
  readonly jobservice: {
    /** Job handlers running at once in this process (Harbor: max_job_workers). */
    readonly maxJobWorkers: number;
    /** Seconds a claimed task stays leased to its worker without a renewal; a dead worker's tasks run again after it. */
    readonly taskLease: number;
  };
  readonly events: {
    /** How often each process's dispatcher polls the event outbox, ms (a local publish kicks it at once). */
    readonly pollInterval: number;
    /** Seconds a handled event stays in the outbox before it is pruned. */
    readonly retention: number;
  };
  readonly log: {
    readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    readonly format: 'json' | 'text';
    /** '' = stdout. */
    readonly file: string;
    readonly rotateSize: number;
    readonly rotateCount: number;
  };
  /** Prometheus metrics on a separate listener (Harbor's harbor.yml `metric:` block). */
  readonly metric: {
    readonly enabled: boolean;
    /** Port of the metrics listener (on http.host); 0 = any free port. */
    readonly port: number;
    /** Path the exposition is served at. */
    readonly path: string;
  };
  /** Webhook delivery (Harbor's harbor.yml `notification:` block, plus Berth's signing and per-target bound). */
  readonly notification: {
    /** Attempts per delivery before its task ends in Error (Harbor's webhook_job_max_retry, used as MaxFails). */
    readonly webhookJobMaxRetry: number;
    /** Seconds one delivery attempt may take (Harbor's webhook_job_http_client_timeout). */
    readonly webhookJobHttpClientTimeout: number;
    /** Seconds before the first retry; doubles per attempt. */
    readonly webhookJobRetryDelay: number;
    /** Deliveries in flight at once to one target address, per process. */
    readonly webhookTargetConcurrency: number;
    /** Key of the HMAC-SHA256 signature header over each body ('' = no signature). A secret: never printed. */
    readonly webhookSigningSecret: string;
  };
  /** The built-in scanner's advisory source (issue 15). */
  readonly scanner: {
    /** OSV records: a path (file, directory, zip) or an http(s) URL (fetched through the outbound guard); '' = none. */
    readonly advisories: string;
    /** Seconds between advisory updates (0: never scheduled). */
    readonly advisoriesUpdateInterval: number;
  };
  readonly security: {
    /** Outbound targets (webhooks, ...) allowed although they are internal: CIDRs, IPs, host names, `.domain` (see drivers/http/outbound-guard.ts). */
    readonly outboundAllowlist: readonly string[];
    /**
     * Key-encryption passphrase ('' = none). When set, the deployment's data key and the token signing key are
     * stored encrypted with it, so a copy of the database alone reveals no secret. A secret: never printed.
     */
    readonly secretKey: string;
  };
  readonly configurations: {
    /** JSON object of runtime settings pinned by the operator (Harbor's CONFIG_OVERWRITE_JSON): not editable by the API. */
    readonly overwriteJson: string;
  };
  /** Set when the file was a harbor.yml: how each of its keys was taken (for `berth config`). */
  readonly harborYml?: {
    readonly mapped: Readonly<Record<string, string>>;
    readonly noted: Readonly<Record<string, string>>;
    readonly unsupported: Readonly<Record<string, string>>;
  };
}

/** Where blobs live: one variant per storage driver (src/storage/open.ts picks the driver by `type`). */
export type StorageConfig = FilesystemStorageConfig | S3StorageConfig;
export interface FilesystemStorageConfig {
  readonly type: 'filesystem';
  readonly filesystemRoot: string;
}
export interface S3StorageConfig {
  readonly type: 's3';
  readonly bucket: string;
  readonly region: string;
  /** Custom endpoint URL (MinIO, Ceph, ...); '' = AWS for the region. */
  readonly endpoint: string;
  /** Static credentials; both '' = the SDK's default chain (AWS_ACCESS_KEY_ID, profiles, instance roles). */
  readonly accessKey: string;
  /** A secret: never printed or logged. */
  readonly secretKey: string;
  /** Path-style (endpoint/bucket/key) instead of virtual-host (bucket.endpoint/key) addressing. */
  readonly forcePathStyle: boolean;
  /** Key prefix inside the bucket ('' = bucket root), without leading or trailing slashes. */
  readonly rootDirectory: string;
  /** Blob GETs answer 307 to a presigned URL (Distribution's `redirect`) instead of streaming through Berth. */
  readonly redirect: boolean;
  /** Multipart part size, bytes (>= 5 MiB, S3's minimum for all parts but the last). */
  readonly multipartChunkSize: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Kind = 'string' | 'int' | 'enum';
interface KeySpec {
  kind: Kind;
  values?: readonly string[];
  min?: number;
  max?: number;
  /** An int that also takes harbor.yml's size notation (`200M`, `1G`, `512K`, binary multiples). */
  size?: boolean;
  default: string | number | ((raw: Raw) => string | number);
}
type Raw = Record<string, string | number>;

// Every accepted key, as its dotted YAML path. The env name is BERTH_ + path with dots as underscores, upper-cased.
const KEYS: Record<string, KeySpec> = {
  data_dir: { kind: 'string', default: './data' },
  'http.host': { kind: 'string', default: '0.0.0.0' },
  'http.port': { kind: 'int', min: 0, max: 65535, default: 5000 },
  'http.external_url': { kind: 'string', default: '' },
  'http.ca_cert_file': { kind: 'string', default: '' },
  'http.body_timeout': { kind: 'int', min: 0, max: 3600, default: 60 },
  'http.body_min_rate': { kind: 'int', min: 0, max: 1024 * 1024 * 1024, default: 64 },
  'http.max_connections': { kind: 'int', min: 0, max: 1_000_000, default: 10_000 },
  'http.max_connections_per_client': { kind: 'int', min: 0, max: 1_000_000, default: 1_000 },
  'http.shutdown_timeout': { kind: 'int', min: 0, max: 3600, default: 30 },
  'https.port': { kind: 'int', min: 0, max: 65535, default: 5443 },
  'https.certificate': { kind: 'string', default: '' },
  'https.private_key': { kind: 'string', default: '' },
  'https.redirect_http': { kind: 'enum', values: ['true', 'false'], default: 'false' },
  'https.http2': { kind: 'enum', values: ['true', 'false'], default: 'true' },
  'database.type': { kind: 'enum', values: ['sqlite', 'postgres'], default: 'sqlite' },
  'database.sqlite.path': { kind: 'string', default: (r) => join(String(r.data_dir), 'berth.db') },
  'database.postgres.url': { kind: 'string', default: '' },
  'database.postgres.max_connections': { kind: 'int', min: 1, max: 1000, default: 20 },
  'storage.type': { kind: 'enum', values: ['filesystem', 's3'], default: 'filesystem' },
  'storage.filesystem.root': { kind: 'string', default: (r) => join(String(r.data_dir), 'storage') },
  'storage.s3.bucket': { kind: 'string', default: '' },
  'storage.s3.region': { kind: 'string', default: 'us-east-1' },
  'storage.s3.endpoint': { kind: 'string', default: '' },
  'storage.s3.access_key': { kind: 'string', default: '' },
  'storage.s3.secret_key': { kind: 'string', default: '' },
  'storage.s3.force_path_style': { kind: 'enum', values: ['true', 'false'], default: 'false' },
  'storage.s3.root_directory': { kind: 'string', default: '' },
  'storage.s3.redirect': { kind: 'enum', values: ['true', 'false'], default: 'false' },
  'storage.s3.chunk_size': { kind: 'int', min: 5 * 1024 * 1024, max: 5 * 1024 * 1024 * 1024, default: 10 * 1024 * 1024 },
  'auth.token_expiration': { kind: 'int', min: 1, max: 1440, default: 30 },
  'auth.admin_initial_password': { kind: 'string', default: '' },
  'auth.self_registration': { kind: 'enum', values: ['true', 'false'], default: 'false' },
  'auth.token_grant': { kind: 'enum', values: ['all', 'requested'], default: 'all' },
  'auth.lockout_threshold': { kind: 'int', min: 0, max: 1000, default: 5 },
  'auth.lockout_duration': { kind: 'int', min: 1, max: 86400, default: 300 },
  'auth.session_idle_timeout': { kind: 'int', min: 1, max: 30 * 86400, default: 3600 },
  'auth.session_lifetime': { kind: 'int', min: 1, max: 365 * 86400, default: 12 * 3600 },
  'project.creation_restriction': { kind: 'enum', values: ['everyone', 'adminonly'], default: 'everyone' },
  'registry.max_manifest_size': { kind: 'int', min: 1024, max: 64 * 1024 * 1024, default: 4 * 1024 * 1024 },
  'registry.upload_idle_timeout': { kind: 'int', min: 1, max: 30 * 86400, default: 86400 },
  'registry.upload_purge_interval': { kind: 'int', min: 1, max: 86400, default: 3600 },
  'registry.gc_grace': { kind: 'int', min: 0, max: 30 * 86400, default: 3600 },
  'registry.catalog_max_entries': { kind: 'int', min: 1, max: 100000, default: 1000 },
  'registry.tags_max_entries': { kind: 'int', min: 1, max: 1000000, default: 10000 },
  'quota.default_storage_limit': { kind: 'int', min: -1, max: Number.MAX_SAFE_INTEGER, default: -1 },
  'jobservice.max_job_workers': { kind: 'int', min: 1, max: 100, default: 5 },
  'jobservice.task_lease': { kind: 'int', min: 1, max: 3600, default: 30 },
  'events.poll_interval': { kind: 'int', min: 10, max: 60_000, default: 500 },
  'events.retention': { kind: 'int', min: 0, max: 30 * 86400, default: 3600 },
  'log.level': { kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
  // pino's JSON lines (the default: what log collectors parse) or one readable line per record.
  'log.format': { kind: 'enum', values: ['json', 'text'], default: 'json' },
  // '' = stdout (containers); otherwise a file Berth rotates itself (src/logging/rotating-file.ts).
  'log.file': { kind: 'string', default: '' },
  'log.rotate_size': { kind: 'int', min: 1024, max: Number.MAX_SAFE_INTEGER, size: true, default: 200 * 1024 * 1024 },
  'log.rotate_count': { kind: 'int', min: 0, max: 1000, default: 50 },
  'configurations.overwrite_json': { kind: 'string', default: '' },
  'metric.enabled': { kind: 'enum', values: ['true', 'false'], default: 'false' },
  'metric.port': { kind: 'int', min: 0, max: 65535, default: 9090 },
  'metric.path': { kind: 'string', default: '/metrics' },
  'security.outbound_allowlist': { kind: 'string', default: '' },
  'security.secret_key': { kind: 'string', default: '' },
  'scanner.advisories': { kind: 'string', default: '' },
  'scanner.advisories_update_interval': { kind: 'int', min: 0, max: 30 * 86400, default: 86400 },
  'notification.webhook_job_max_retry': { kind: 'int', min: 1, max: 100, default: 3 },
  'notification.webhook_job_http_client_timeout': { kind: 'int', min: 1, max: 300, default: 3 },
  'notification.webhook_job_retry_delay': { kind: 'int', min: 0, max: 3600, default: 10 },
  'notification.webhook_target_concurrency': { kind: 'int', min: 1, max: 100, default: 4 },
  'notification.webhook_signing_secret': { kind: 'string', default: '' },
};

export const envName = (key: string): string => 'BERTH_' + key.replace(/\./g, '_').toUpperCase();

function flatten(obj: unknown, prefix: string, out: Record<string, unknown>, problems: string[]): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) {
    problems.push(`${prefix || '(root)'}: expected a mapping`);
    return;
  }
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v, path, out, problems);
    else out[path] = v;
  }
}

export interface LoadOptions {
  /** Path of a YAML file; optional. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Directory that relative paths resolve against (default: process.cwd()). */
  cwd?: string;
  /** Skip the filesystem checks (used by tests of pure validation). */
  skipFsChecks?: boolean;
  /** Receives non-fatal findings (unknown BERTH_* environment variables, unsupported harbor.yml keys); default: stderr. */
  warn?: (message: string) => void;
}

/** Key names and the few words a harbor.yml problem or warning shows; values are never shown (they may be secrets). */
const listKeys = (m: Record<string, string>) => {
  // Keys with the same reason are listed together: "a, b, c (reason)".
  const byWhy = new Map<string, string[]>();
  for (const [k, why] of Object.entries(m)) byWhy.set(why, [...(byWhy.get(why) ?? []), k]);
  return [...byWhy].map(([why, keys]) => `${keys.join(', ')} (${why})`).join('; ');
};

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? {};
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];
  const given: Record<string, unknown> = {};
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`berth: warning: ${m}\n`));
  // Berth key → the harbor.yml key it was mapped from: problems name the key the operator wrote.
  let origin: Record<string, string> = {};
  let harborYml: Config['harborYml'];
  const label = (k: string) => (origin[k] && origin[k] !== k ? `${origin[k]} (harbor.yml, as ${k})` : k);
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError([`cannot read config file ${opts.file}: ${(e as Error).message}`]);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (e) {
      throw new ConfigError([`config file ${opts.file} is not valid YAML: ${(e as Error).message}`]);
    }
    if (isHarborYml(doc)) {
      const storageTypes = KEYS['storage.type'].values ?? [];
      const m = mapHarborYml(doc as Record<string, unknown>, { knownKeys: new Set(Object.keys(KEYS)), storageTypes });
      Object.assign(given, m.given);
      origin = m.origin;
      problems.push(...m.problems);
      harborYml = { mapped: m.mapped, noted: m.noted, unsupported: m.unsupported };
      // One warning naming every unsupported key, so nothing in the file is dropped silently.
      if (Object.keys(m.unsupported).length) warn(`${opts.file}: harbor.yml keys not supported by Berth, ignored: ${listKeys(m.unsupported)}`);
    } else flatten(doc, '', given, problems);
  }
  for (const k of Object.keys(given)) if (!(k in KEYS)) problems.push(`${k}: unknown key`);
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('BERTH_') || value === undefined) continue;
    const key = Object.keys(KEYS).find((k) => envName(k) === name);
    if (key) {
      given[key] = value;
      // An environment variable overrides a mapped harbor.yml value: its problems name the Berth key again.
      delete origin[key];
    }
    // Kubernetes injects BERTH_PORT=tcp://…, BERTH_SERVICE_HOST … for a Service named "berth": an unknown name
    // is a warning, never a refusal to start (a typo in a key still shows up in the log).
    else if (!['BERTH_CONFIG', 'BERTH_TEST_DATABASE', 'BERTH_TEST_PG_URL'].includes(name) && !name.startsWith('BERTH_TEST_'))
      warn(`${name}: unknown environment variable, ignored`);
  }

  const raw: Raw = {};
  for (const [key, spec] of Object.entries(KEYS)) {
    if (!(key in given) || given[key] === undefined || given[key] === null) continue;
    const v = given[key];
    if (spec.kind === 'int') {
      const n = typeof v === 'number' ? v : typeof v === 'string' ? (spec.size ? parseSize(v) : /^-?\d+$/.test(v.trim()) ? Number(v.trim()) : NaN) : NaN;
      if (!Number.isInteger(n)) problems.push(`${label(key)}: expected an integer, got ${JSON.stringify(v)}`);
      else if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        problems.push(`${label(key)}: ${n} is out of range ${spec.min}..${spec.max}`);
      else raw[key] = n;
    } else {
      // YAML `enabled: true` is a boolean; the true/false switches take it as their text.
      if (typeof v === 'boolean' && spec.values?.includes(String(v))) {
        raw[key] = String(v);
        continue;
      }
      if (typeof v !== 'string' && typeof v !== 'number') {
        problems.push(`${label(key)}: expected a string, got ${JSON.stringify(v)}`);
        continue;
      }
      const s = String(v);
      if (spec.kind === 'enum' && !spec.values!.includes(s))
        problems.push(`${label(key)}: must be one of ${spec.values!.join(', ')}, got ${JSON.stringify(s)}`);
      else raw[key] = s;
    }
  }
  // Defaults, in declaration order so derived defaults see data_dir.
  for (const [key, spec] of Object.entries(KEYS)) {
    if (!(key in raw)) raw[key] = typeof spec.default === 'function' ? spec.default(raw) : spec.default;
  }
  const str = (k: string) => String(raw[k]);
  const num = (k: string) => Number(raw[k]);

  if (str('database.type') === 'postgres' && !str('database.postgres.url'))
    problems.push('database.postgres.url: required when database.type is postgres');
  if (str('database.postgres.url') && !/^postgres(ql)?:\/\//.test(str('database.postgres.url')))
    problems.push('database.postgres.url: must start with postgres:// or postgresql://');
  const ext = str('http.external_url');
  if (ext) {
    try {
      const u = new URL(ext);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`${label('http.external_url')}: not an http(s) URL: ${JSON.stringify(ext)}`);
    }
  }
  const pw = str('auth.admin_initial_password');
  if (pw && pw.length < 8) problems.push(`${label('auth.admin_initial_password')}: must be at least 8 characters`);
  const metricPath = str('metric.path');
  // Plain path characters only: the path becomes a route, where `:` or `*` would turn into parameters.
  if (!/^\/[A-Za-z0-9._~\/-]*$/.test(metricPath))
    problems.push(`${label('metric.path')}: must be a path starting with / of letters, digits and . _ ~ - /, got ${JSON.stringify(metricPath)}`);
  if (str('metric.enabled') === 'true' && num('metric.port') !== 0 && num('metric.port') === num('http.port'))
    problems.push(`metric.port: ${num('metric.port')} is already http.port; the metrics listener needs its own port`);
  const tlsOn = !!(str('https.certificate') || str('https.private_key'));
  if (tlsOn && !str('https.certificate')) problems.push(`${label('https.certificate')}: required when https.private_key is set`);
  if (tlsOn && !str('https.private_key')) problems.push(`${label('https.private_key')}: required when https.certificate is set`);
  if (tlsOn && num('https.port') !== 0 && num('https.port') === num('http.port') && str('https.redirect_http') === 'true')
    problems.push(`${label('https.port')}: ${num('https.port')} is already http.port, which redirects to HTTPS`);
  if (tlsOn && str('metric.enabled') === 'true' && num('metric.port') !== 0 && num('metric.port') === num('https.port'))
    problems.push(`metric.port: ${num('metric.port')} is already https.port; the metrics listener needs its own port`);
  let outboundAllowlist: string[] = [];
  try {
    outboundAllowlist = OutboundGuard.parseAllowlist(str('security.outbound_allowlist'));
  } catch (e) {
    problems.push(`security.outbound_allowlist: ${(e as Error).message}`);
  }
  // scanner.advisories: an http(s) URL as given, any other scheme refused, else a path relative to the working directory.
  let advisories = str('scanner.advisories');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(advisories)) {
    try {
      const u = new URL(advisories);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      problems.push(`scanner.advisories: not an http(s) URL or a path: ${JSON.stringify(advisories.replace(/\?.*$/, ''))}`);
    }
  } else if (advisories) advisories = resolve(cwd, advisories);
  const storage = storageConfig(str, num, cwd, problems);
  if (problems.length) throw new ConfigError(problems);

  const dataDir = resolve(cwd, str('data_dir'));
  const config: Config = {
    dataDir,
    http: {
      host: str('http.host'),
      port: num('http.port'),
      externalUrl: ext.replace(/\/+$/, ''),
      caCertFile: str('http.ca_cert_file'),
      bodyTimeout: num('http.body_timeout'),
      bodyMinRate: num('http.body_min_rate'),
      maxConnections: num('http.max_connections'),
      maxConnectionsPerClient: num('http.max_connections_per_client'),
      shutdownTimeout: num('http.shutdown_timeout'),
    },
    https: {
      enabled: tlsOn,
      port: num('https.port'),
      certificate: str('https.certificate') ? resolve(cwd, str('https.certificate')) : '',
      privateKey: str('https.private_key') ? resolve(cwd, str('https.private_key')) : '',
      redirectHttp: str('https.redirect_http') === 'true',
      http2: str('https.http2') === 'true',
    },
    database: {
      type: str('database.type') as 'sqlite' | 'postgres',
      sqlitePath: resolve(cwd, str('database.sqlite.path')),
      postgresUrl: str('database.postgres.url'),
      postgresMaxConnections: num('database.postgres.max_connections'),
    },
    storage: storage!,
    auth: {
      tokenExpiration: num('auth.token_expiration'),
      adminInitialPassword: pw,
      selfRegistration: str('auth.self_registration') === 'true',
      tokenGrant: str('auth.token_grant') as 'all' | 'requested',
      lockoutThreshold: num('auth.lockout_threshold'),
      lockoutDuration: num('auth.lockout_duration'),
      sessionIdleTimeout: num('auth.session_idle_timeout'),
      sessionLifetime: num('auth.session_lifetime'),
    },
    project: { creationRestriction: str('project.creation_restriction') as 'everyone' | 'adminonly' },
    registry: {
      maxManifestSize: num('registry.max_manifest_size'),
      uploadIdleTimeout: num('registry.upload_idle_timeout'),
      uploadPurgeInterval: num('registry.upload_purge_interval'),
      gcGrace: num('registry.gc_grace'),
      catalogMaxEntries: num('registry.catalog_max_entries'),
      tagsMaxEntries: num('registry.tags_max_entries'),
    },
    quota: { defaultStorageLimit: num('quota.default_storage_limit') },
    jobservice: { maxJobWorkers: num('jobservice.max_job_workers'), taskLease: num('jobservice.task_lease') },
    events: { pollInterval: num('events.poll_interval'), retention: num('events.retention') },
    log: {
      level: str('log.level') as Config['log']['level'],
      format: str('log.format') as Config['log']['format'],
      file: str('log.file'),
      rotateSize: num('log.rotate_size'),
      rotateCount: num('log.rotate_count'),
    },
    configurations: { overwriteJson: str('configurations.overwrite_json') },
    metric: { enabled: str('metric.enabled') === 'true', port: num('metric.port'), path: metricPath },
    notification: {
      webhookJobMaxRetry: num('notification.webhook_job_max_retry'),
      webhookJobHttpClientTimeout: num('notification.webhook_job_http_client_timeout'),
      webhookJobRetryDelay: num('notification.webhook_job_retry_delay'),
      webhookTargetConcurrency: num('notification.webhook_target_concurrency'),
      webhookSigningSecret: str('notification.webhook_signing_secret'),
    },
    scanner: { advisories, advisoriesUpdateInterval: num('scanner.advisories_update_interval') },
    security: { outboundAllowlist, secretKey: str('security.secret_key') },
    ...(harborYml ? { harborYml } : {}),
  };
  // The certificate and key are checked now, so Berth never starts with a TLS listener it cannot open.
  if (config.https.enabled) {
    const tlsProblems = checkTlsFiles(config.https.certificate, config.https.privateKey).map((p) =>
      p.replace(/^(https\.certificate|https\.private_key)/, (k) => label(k)),
    );
    if (tlsProblems.length) throw new ConfigError(tlsProblems);
  }
  if (!opts.skipFsChecks) checkWritable(config.storage.type === 'filesystem' ? [config.dataDir, config.storage.filesystemRoot] : [config.dataDir]);
  return deepFreeze(config);
}

/** Reads and cross-checks the TLS files: readable, PEM, and the key belongs to the (first) certificate. */
export function checkTlsFiles(certFile: string, keyFile: string): string[] {
  const problems: string[] = [];
  let cert: X509Certificate | null = null;
  let key: ReturnType<typeof createPrivateKey> | null = null;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    problems.push(`https.certificate: ${err.code && err.syscall ? `cannot read ${certFile} (${err.code})` : `${certFile} is not a PEM certificate (${err.message})`}`);
  }
  try {
    key = createPrivateKey(readFileSync(keyFile));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    // The key's text never appears in the message (a private key is a secret).
    problems.push(`https.private_key: ${err.code && err.syscall ? `cannot read ${keyFile} (${err.code})` : `${keyFile} is not an unencrypted PEM private key`}`);
  }
  if (cert && key && !cert.checkPrivateKey(key)) problems.push(`https.private_key: ${keyFile} does not match the certificate ${certFile}`);
  return problems;
}

function storageConfig(str: (k: string) => string, num: (k: string) => number, cwd: string, problems: string[]): StorageConfig | null {
  if (str('storage.type') === 'filesystem') return { type: 'filesystem', filesystemRoot: resolve(cwd, str('storage.filesystem.root')) };
  const bucket = str('storage.s3.bucket');
  // S3 bucket naming rules (3-63 lower-case letters, digits, dots, hyphens), so a typo fails at start, not at the first push.
  if (!bucket) problems.push('storage.s3.bucket: required when storage.type is s3');
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push(`storage.s3.bucket: not a valid bucket name: ${JSON.stringify(bucket)}`);
  const region = str('storage.s3.region');
  if (!/^[a-z0-9-]+$/.test(region)) problems.push(`storage.s3.region: not a region name: ${JSON.stringify(region)}`);
  const endpoint = str('storage.s3.endpoint').replace(/\/+$/, '');
  if (endpoint) {
    try {
      const u = new URL(endpoint);
      if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || u.search) throw new Error('bad');
    } catch {
      problems.push(`storage.s3.endpoint: not an http(s) URL without credentials or query: ${JSON.stringify(endpoint.replace(/\/\/[^@/]*@/, '//<credentials>@'))}`);
    }
  }
  const accessKey = str('storage.s3.access_key');
  const secretKey = str('storage.s3.secret_key');
  if (accessKey && !secretKey) problems.push('storage.s3.secret_key: required when storage.s3.access_key is set');
  if (secretKey && !accessKey) problems.push('storage.s3.access_key: required when storage.s3.secret_key is set');
  const rootDirectory = str('storage.s3.root_directory').replace(/^\/+|\/+$/g, '');
  if (rootDirectory.split('/').some((seg) => seg === '' || seg === '.' || seg === '..') && rootDirectory !== '')
    problems.push(`storage.s3.root_directory: empty, . or .. path segments are not allowed: ${JSON.stringify(rootDirectory)}`);
  return {
    type: 's3',
    bucket,
    region,
    endpoint,
    accessKey,
    secretKey,
    forcePathStyle: str('storage.s3.force_path_style') === 'true',
    rootDirectory,
    redirect: str('storage.s3.redirect') === 'true',
    multipartChunkSize: num('storage.s3.chunk_size'),
  };
}

function checkWritable(dirs: string[]): void {
  const problems: string[] = [];
  for (const d of dirs) {
    try {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      accessSync(d, constants.W_OK);
    } catch (e) {
      problems.push(`${d}: directory is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** The documented keys with their env names, for `berth --help` and the operator's guide. */
export function describeKeys(): string[] {
  return Object.entries(KEYS).map(([k, s]) => {
    const def = typeof s.default === 'function' ? '(derived)' : JSON.stringify(s.default);
    return `${k.padEnd(36)} ${envName(k).padEnd(44)} default ${def}`;
  });
}

/** `200M`-style sizes (harbor.yml's log.local.rotate_size): a number with an optional K/M/G suffix, binary multiples. */
export function parseSize(v: string): number {
  const m = /^\s*(\d+)\s*([kmg]i?b?|b)?\s*$/i.exec(v);
  if (!m) return NaN;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Number(m[1]) * mult;
}
