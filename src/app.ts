// Composition root: builds every service from the validated config. Nothing here is global; tests build as
// many independent apps as they like.
import { ConfigError, type Config } from './config/config.ts';
import type { Db } from './db/db.ts';
import { openDatabase } from './db/open.ts';
import { openBlobStore } from './storage/open.ts';
import type { BlobStore } from './storage/blob-store.ts';
import { BlobRepository } from './repositories/blob-repository.ts';
import { ManifestRepository } from './repositories/manifest-repository.ts';
import { ProjectRepository } from './repositories/project-repository.ts';
import { RepositoryRepository } from './repositories/repository-repository.ts';
import { SettingsRepository } from './repositories/settings-repository.ts';
import { ConfigurationRepository } from './repositories/configuration-repository.ts';
import { ConfigurationService } from './services/config/configuration-service.ts';
import { UserGroupRepository } from './repositories/user-group-repository.ts';
import { UserGroupService } from './services/usergroup/user-group-service.ts';
import { LdaptsDriver } from './drivers/ldap/ldap-client.ts';
import { LdapService } from './services/ldap/ldap-service.ts';
import { LdapAuthenticator } from './services/ldap/ldap-authenticator.ts';
import { UploadRepository } from './repositories/upload-repository.ts';
import { UserRepository } from './repositories/user-repository.ts';
import { LoginFailureRepository } from './repositories/login-failure-repository.ts';
import { MemberRepository } from './repositories/member-repository.ts';
import { AuditLogRepository } from './repositories/audit-log-repository.ts';
import { BufferedAuditSink, type AuditSettings } from './services/audit/buffered-sink.ts';
import { SyslogForwarder } from './services/audit/syslog-forwarder.ts';
import { AuditLogService } from './services/audit/audit-log-service.ts';
import { ArtifactQueryRepository } from './repositories/artifact-query-repository.ts';
import { StatisticsRepository } from './repositories/statistics-repository.ts';
import { SystemService } from './services/system/system-service.ts';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { UserService } from './services/auth/user-service.ts';
import { SessionService } from './services/auth/session-service.ts';
import { SessionRepository } from './repositories/session-repository.ts';
import { RobotRepository } from './repositories/robot-repository.ts';
import { RobotService } from './services/auth/robot-service.ts';
import { ProjectService } from './services/project/project-service.ts';
import { CveAllowlistRepository } from './repositories/cve-allowlist-repository.ts';
import { ImmutableRuleRepository } from './repositories/immutable-rule-repository.ts';
import { ImmutabilityService } from './services/artifact/immutability-service.ts';
import { RetentionRepository } from './repositories/retention-repository.ts';
import { RetentionService } from './services/retention/retention-service.ts';
import { AccessPolicy } from './services/auth/access-policy.ts';
import { AuthService } from './services/auth/auth-service.ts';
import { generatePassword, hashPassword } from './services/auth/password.ts';
import { Roles } from './services/auth/rbac.ts';
import { TokenService } from './services/auth/token-service.ts';
import { BlobService } from './services/registry/blob-service.ts';
import { ManifestService } from './services/registry/manifest-service.ts';
import { UploadService } from './services/registry/upload-service.ts';
import { JobRepository } from './repositories/job-repository.ts';
import { JobService } from './services/jobs/job-service.ts';
import { GcService } from './services/registry/gc-service.ts';
import { GcRepository } from './repositories/gc-repository.ts';
import { QuotaRepository } from './repositories/quota-repository.ts';
import { QuotaService } from './services/registry/quota-service.ts';
import { parseCrashPoint, type Faults } from './services/registry/faults.ts';
import { EventRepository } from './repositories/event-repository.ts';
import { EventOutbox } from './services/events/outbox.ts';
import { EventDispatcher } from './services/events/dispatcher.ts';
import type { Subscriber } from './services/events/types.ts';
import { AuditSubscriber } from './services/audit/audit-subscriber.ts';
import { MetricsService, projectMetricsSource } from './services/metrics/metrics-service.ts';
import { artifactTypeOfColumns } from './services/artifact/artifact-model.ts';
import { WebhookRepository } from './repositories/webhook-repository.ts';
import { WebhookService } from './services/webhook/webhook-service.ts';
import { SecretBox, SecretKeyError } from './services/security/secret-box.ts';
import { OidcService } from './services/oidc/oidc-service.ts';
import { OidcUserRepository } from './repositories/oidc-user-repository.ts';
import { FirstExternalAuthenticator } from './services/auth/external-auth.ts';
import { WebhookDelivery } from './services/webhook/webhook-delivery.ts';
import { OutboundGuard } from './drivers/http/outbound-guard.ts';
import { AdvisoryService } from './services/scan/advisory-service.ts';
import { ScannerService } from './services/scan/scanner-service.ts';
import { ScanService } from './services/scan/scan-service.ts';
import { ScannerRepository } from './repositories/scanner-repository.ts';
import { ScanReportRepository } from './repositories/scan-report-repository.ts';
import { SystemCveAllowlistRepository } from './repositories/cve-allowlist-repository.ts';
import { RegistryRepository } from './repositories/registry-repository.ts';
import { RegistryService } from './services/replication/registry-service.ts';
import { ProxyCacheService } from './services/proxy/proxy-cache-service.ts';
import { parsePolicy } from './services/retention/retention-service.ts';
import { ReplicationService } from './services/replication/replication-service.ts';
import { LabelRepository } from './repositories/label-repository.ts';
import { ReplicationPolicyRepository } from './repositories/replication-policy-repository.ts';
import { defaultAdapters } from './drivers/registry/index.ts';
import { buildArtifactDomain, createPullRecorder, type ArtifactDomain } from './services/artifact/artifact-domain.ts';
import { TrustedKeyRepository } from './repositories/trusted-key-repository.ts';
import { TrustedKeyService } from './services/signature/trusted-key-service.ts';
import { ContentTrustService } from './services/signature/content-trust.ts';
import { SignatureVerifiers, type SignatureVerifierFactory } from './services/signature/verifier.ts';
import { LocalCacheBus, type CacheBus } from './drivers/cache-bus/cache-bus.ts';
import { PgCacheBus } from './drivers/cache-bus/pg-cache-bus.ts';
import { cosignVerifierFactory } from './services/signature/cosign-verifier.ts';
import { notationVerifierFactory } from './services/signature/notation-verifier.ts';

/** The signature verifiers, one per signature accessory type (content trust picks them by the accessory's type). */
export const SIGNATURE_VERIFIER_FACTORIES: readonly SignatureVerifierFactory[] = [cosignVerifierFactory, notationVerifierFactory];

export interface Services {
  db: Db;
  /** Per-process cache invalidations, delivered to every process of the deployment (LISTEN/NOTIFY on PostgreSQL). */
  cacheBus: CacheBus;
  store: BlobStore;
  policy: AccessPolicy;
  auth: AuthService;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  /** Repositories, artifacts and labels of /api/v2.0, and the batched pull time/count recorder. */
  artifactDomain: ArtifactDomain;
  retention: RetentionService;
  /** Persistent job queue and schedules; server-main registers handlers and starts it. */
  jobs: JobService;
  gc: GcService;
  quotas: QuotaService;
  /** The event seam: services publish to the outbox in their transactions; the dispatcher feeds the subscribers. */
  events: { outbox: EventOutbox; dispatcher: EventDispatcher };
  repositories: { projects: ProjectRepository; users: UserRepository };
  /** Audit sink for records that are not domain events (logins, users, members, ...), with optional syslog forwarding. */
  audit: BufferedAuditSink;
  /** Audit log queries (/audit-logs, /auditlog-exts). */
  auditQueries: AuditLogService;
  /** Health, systeminfo, statistics, search and the read-only switch. */
  system: SystemService;
  /** The audit_logs table (the PURGE_AUDIT_LOG job deletes old rows through it). */
  auditLogs: AuditLogRepository;
  /** Runtime settings (GET/PUT /api/v2.0/configurations): config-file defaults overridden by stored values. */
  configs: ConfigurationService;
  /** User groups (/api/v2.0/usergroups), usable as project members. */
  groups: UserGroupService;
  /** The LDAP/AD directory of the runtime settings (ping, search) and the ldap_auth logins and imports. */
  ldap: LdapService;
  ldapAuth: LdapAuthenticator;
  /** OIDC single sign-on (auth_mode oidc_auth): /c/oidc/*, CLI secrets, /system/oidc/ping. */
  oidc: OidcService;
  users: UserService;
  projects: ProjectService;
  /** Portal cookie sessions (POST /c/login). */
  sessions: SessionService;
  /** Robot accounts (/api/v2.0/robots; Basic `robot$...` logins through AuthService). */
  robots: RobotService;
  /** Prometheus metrics (config metric.enabled); null when disabled, so requests are not instrumented. */
  metrics: MetricsService | null;
  /** Webhook policies of projects (/projects/{p}/webhook/policies); targets guarded, auth headers sealed. */
  webhooks: WebhookService;
  /** The webhook event subscriber and its WEBHOOK/SLACK job types (registered by the server). */
  webhookDelivery: WebhookDelivery;
  /** Replication endpoints (/registries) and the adapter table; secrets sealed, URLs guarded. */
  registries: RegistryService;
  /** Pull-through of proxy-cache projects (/v2 manifests and blobs). */
  proxy: ProxyCacheService;
  /** Replication policies, executions and the transfer engine (job types registered by the server). */
  replication: ReplicationService;
  /** The built-in scanner's OSV advisories and stored inventories (its update job registered by the server). */
  advisories: AdvisoryService;
  /** Scanner registrations (/scanners, the project's scanner); the built-in one exists from the first start. */
  scanners: ScannerService;
  /** Scans, reports, scan on push, scan all and the prevent_vul pull check (job types registered by the server). */
  scans: ScanService;
  /** The system CVE allowlist (GET/PUT /system/CVEAllowlist; prevent_vul reads it through ScanService). */
  systemAllowlist: SystemCveAllowlistRepository;
  /** Projects' trusted keys (/projects/{p}/trusted-keys) and the content trust check of manifest pulls. */
  signatures: { trustedKeys: TrustedKeyService; contentTrust: ContentTrustService };
}

export interface Bootstrap {
  /** Set only on the very first start, when the admin password was generated. */
  generatedAdminPassword: string | null;
}

export async function buildServices(config: Config): Promise<{ services: Services; bootstrap: Bootstrap }> {
  const db = await openDatabase(config.database);
  const store = await openBlobStore(config.storage);
  // Processes sharing a PostgreSQL database tell each other what to drop from their caches; alone on SQLite the
  // bus stays in-process.
  const cacheBus: CacheBus = config.database.type === 'postgres' ? new PgCacheBus({ db, url: config.database.postgresUrl }) : new LocalCacheBus();
  await cacheBus.start();
  const projects = new ProjectRepository(db);
  const users = new UserRepository(db);
  const repositories = new RepositoryRepository(db);
  const blobRows = new BlobRepository(db);
  const manifests = new ManifestRepository(db);
  const settings = new SettingsRepository(db);
  const members = new MemberRepository(db);
  const policy = new AccessPolicy(projects, members);
  // The data key first: it seals the token signing key too when the operator gave a passphrase.
  let box: SecretBox, tokens: TokenService;
  try {
    box = await SecretBox.create(settings, config.security.secretKey);
    tokens = await TokenService.create(settings, config.auth.tokenExpiration, box);
  } catch (e) {
    if (e instanceof SecretKeyError) throw new ConfigError([e.message]);
    throw e;
  }
  const auditLogs = new AuditLogRepository(db);
  const auditWarn = (err: unknown) => process.emitWarning(`audit log: ${(err as Error).message}`);
  // Settings are read per event through the configuration service (cached there); it is built just below.
  const auditSettings = async (): Promise<AuditSettings> => {
    const v = await configs.all();
    return { skipDatabase: v.skip_audit_log_database, forwardEndpoint: v.audit_log_forward_endpoint };
  };
  const syslog = new SyslogForwarder({ onError: auditWarn });
  const audit: BufferedAuditSink = new BufferedAuditSink({ logs: auditLogs, settings: auditSettings, forward: syslog, onError: auditWarn });
  // The subscriber table (Harbor's controller/event/handler/init.go): every feature that reacts to another's
  // changes is listed here and learns about them only through events.
  const jobs = new JobService({ repo: new JobRepository(db), maxWorkers: config.jobservice.maxJobWorkers, leaseMs: config.jobservice.taskLease * 1000 });
  // One guard for every request to a user-given URL (webhooks, replication endpoints; scanners later).
  const guard = new OutboundGuard({ allowlist: config.security.outboundAllowlist });
  const webhookRows = new WebhookRepository(db);
  const webhookDelivery = new WebhookDelivery(
    {
      policies: webhookRows,
      projects,
      repositories,
      jobs,
      guard,
      box,
      // Read from the configuration cache (the subscriber runs inside the dispatcher's transaction).
      enabled: async () => configs.peek('notification_enable'),
      registryHost: registryHostOf(config, config.http.port),
    },
    {
      maxAttempts: config.notification.webhookJobMaxRetry,
      timeoutMs: config.notification.webhookJobHttpClientTimeout * 1000,
      retryDelayMs: config.notification.webhookJobRetryDelay * 1000,
      perTargetConcurrency: config.notification.webhookTargetConcurrency,
      signingSecret: config.notification.webhookSigningSecret,
    },
  );
  const registries = new RegistryService({ repo: new RegistryRepository(db), guard, box, adapters: defaultAdapters(), audit });
  // The auth service is built below; the replication service reads it lazily (local tokens) through this holder.
  const authRef: { auth?: AuthService } = {};
  const projectServiceRef: { service?: ProjectService } = {};
  const replicationLabels = new LabelRepository(db);
  const replication = new ReplicationService({
    repo: new ReplicationPolicyRepository(db),
    tagStates: (repo) => manifests.listTagStates(repo),
    readBlob: async (repo, digest) => {
      const size = await blobRows.findLinkedBlobSize(repo, digest);
      return size === null ? null : { size, stream: store.read(digest) };
    },
    labels: (repo, digest) => replicationLabels.listLabelNamesOfArtifact(repo, digest),
    registries,
    repositories,
    jobs,
    auth: { issueToken: (p, s) => authRef.auth!.issueToken(p, s) } as AuthService,
    guard,
    audit,
    // A dead peer gets five runs over ~15 s (1 s doubling) before the task ends Failed.
    maxAttempts: 5,
    retryDelayMs: 1000,
    localAdmin: async () => {
      const u = await users.findFirstSysadmin();
      if (!u) throw new Error('no system admin to replicate as');
      return { id: u.id, username: u.username };
    },
    ensureProject: async (name) => {
      if (await projects.findProjectByName(name)) return;
      const owner = await users.findFirstSysadmin();
      await projectServiceRef.service!.create({ id: owner!.id, username: owner!.username }, { project_name: name, metadata: { public: 'false' } }).catch(async (e) => {
        if (!(await projects.findProjectByName(name))) throw e;
      });
    },
  });
  const advisories = new AdvisoryService({ db, guard });
  const scanners = new ScannerService({
    repo: new ScannerRepository(db),
    box,
    guard,
    advisoriesUpdatedAt: async () => (await advisories.repo.findLatestImport())?.finishedAt ?? null,
  });
  await scanners.ensureBuiltin();
  const systemAllowlist = new SystemCveAllowlistRepository(db);
  const scans = new ScanService({
    db,
    reports: new ScanReportRepository(db),
    scanners,
    advisories,
    store,
    manifests,
    projects,
    allowlists: new CveAllowlistRepository(db),
    systemAllowlist,
    jobs,
    // The outbox is built after the dispatcher (which needs this subscriber table): reached through it lazily.
    events: { publish: (q, events) => outbox.publish(q, events) },
  });
  const subscribers: Subscriber[] = [
    new AuditSubscriber({ logs: auditLogs, settings: auditSettings, forward: syslog, onError: auditWarn }),
    webhookDelivery.subscriber,
    replication.subscriber,
    scans.subscriber,
  ];
  const eventRows = new EventRepository(db);
  const dispatcher = new EventDispatcher(
    { db, events: eventRows, subscribers },
    { pollIntervalMs: config.events.pollInterval, retentionMs: config.events.retention * 1000 },
  );
  const outbox = new EventOutbox({ events: eventRows, onPublished: (seq) => dispatcher.kick(seq) });
  const configs: ConfigurationService = new ConfigurationService({ db, repo: new ConfigurationRepository(db), config, audit, box, hasNonAdminUsers: () => users.existsUserOtherThan('admin'), bus: cacheBus });
  // token_expiration is a runtime setting: the token lifetime follows it (read from the configuration cache).
  tokens.useTtlSource(() => configs.peek('token_expiration'));
  await configs.all();
  const robots = new RobotService({ robots: new RobotRepository(db), projects, users, policy, audit, defaultDuration: () => configs.get('robot_token_duration'), namePrefix: () => configs.get('robot_name_prefix'), bus: cacheBus });
  const ldap = new LdapService({ driver: new LdaptsDriver(), configs, warn: (m) => process.emitWarning(m) });
  const groupRows = new UserGroupRepository(db);
  const groups = new UserGroupService({ db, groups: groupRows, members, audit, ldapLookup: (dn) => ldap.findGroup(dn) });
  const ldapAuth = new LdapAuthenticator({ db, ldap, configs, users, groupRows, groups, audit });
  const oidc = new OidcService({ db, configs, users, oidcUsers: new OidcUserRepository(db), groupRows, groups, box, audit, guard });
  const auth = new AuthService(users, policy, tokens, {
    // Each handles only usernames of its auth_mode (never the local admin).
    external: new FirstExternalAuthenticator([ldapAuth, oidc]),
    robots,
    lockout: { threshold: config.auth.lockoutThreshold, durationMs: config.auth.lockoutDuration * 1000 },
    failureStore: new LoginFailureRepository(db),
    audit,
    tokenGrant: config.auth.tokenGrant,
    bus: cacheBus,
  });
  authRef.auth = auth;
  // New auth_mode or directory settings apply to the next request of every process (the configuration service
  // calls its listeners for changes any process made), not after the login cache expires.
  configs.onChange((keys) => {
    if (keys.some((k) => k === 'auth_mode' || k.startsWith('ldap_') || k.startsWith('oidc_'))) auth.invalidateAll();
    if (keys.some((k) => k === 'auth_mode' || k.startsWith('oidc_'))) oidc.invalidate();
  });
  const bootstrap = await ensureDefaults(config, db, users, projects, members);
  // Cursors exist before the first request, so no event published from now on is skipped.
  await dispatcher.init();
  // Test-only crash injection (see services/registry/faults.ts); read once, here, and passed down.
  const faults: Faults = { crashAt: parseCrashPoint(process.env.BERTH_TEST_CRASH_AT) };
  const quotaRows = new QuotaRepository(db);
  const quotas = new QuotaService({ db, quotas: quotaRows, defaultStorageLimit: config.quota.defaultStorageLimit, events: outbox, onError: (err) => process.emitWarning(`quota event: ${(err as Error).message}`) });
  const artifactQueries = new ArtifactQueryRepository(db);
  const statistics = new StatisticsRepository(db);
  const system = new SystemService({
    config,
    stats: statistics,
    artifactCounts: (ids) => artifactQueries.countArtifacts(ids),
    totalStorage: () => quotaRows.totalStorageUsage(),
    settings: () => configs.all(),
    version: `v${(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version}`,
    jobservice: () => jobs.listSchedules(),
    storage: () => store.check(),
  });
  const metrics = config.metric.enabled
    ? new MetricsService({
        sources: {
          projects: projectMetricsSource({
            counts: () => statistics.listProjectCounts(),
            quotas: () => quotas.listAll(),
            artifactKinds: () => artifactQueries.countArtifactsByProjectAndKind(),
            typeOf: artifactTypeOfColumns,
          }),
          statistics: () => system.statistics({ all: true }),
          health: () => system.health(),
          systemInfo: async () => {
            const i = await system.info(true, '');
            return { authMode: String(i.auth_mode), version: String(i.harbor_version), selfRegistration: i.self_registration === true };
          },
          jobs: () => jobs.queueStats(),
        },
        warn: (m) => process.emitWarning(m),
      })
    : null;
  const webhooks = new WebhookService({ repo: webhookRows, guard, box, audit, jobs });
  const pullRecorder = createPullRecorder(db, outbox);
  const immutability = new ImmutabilityService({ db, rules: new ImmutableRuleRepository(db), audit });
  const manifestService = new ManifestService({ db, manifests, blobs: blobRows, repositories, faults, quota: quotas, events: outbox, onPull: pullRecorder.onPull, immutability });
  const artifactDomain = buildArtifactDomain({ db, store, manifests: manifestService, manifestRows: manifests, blobs: blobRows, repositories, quota: quotas, audit, events: outbox, pulls: pullRecorder.pulls, immutability });
  const retention = new RetentionService({
    db,
    repo: new RetentionRepository(db),
    projects,
    jobs,
    immutability,
    artifacts: artifactDomain.artifacts,
    query: artifactQueries,
    audit,
    events: outbox,
  });
  const contentTrust = new ContentTrustService({
    metadata: (id) => projects.findProjectMetadata(id),
    keys: (id) => trustedKeys.trusted(id),
    query: artifactQueries,
    store,
    verifiers: new SignatureVerifiers(SIGNATURE_VERIFIER_FACTORIES),
  });
  const trustedKeys: TrustedKeyService = new TrustedKeyService({ keys: new TrustedKeyRepository(db), audit, onChange: (id) => void cacheBus.publish('trust', String(id)) });
  cacheBus.subscribe('trust', (id) => (id === null ? contentTrust.invalidateAll() : contentTrust.invalidate(Number(id))));
  const projectService = new ProjectService({
    db,
    projects,
    members,
    users,
    audit,
    events: outbox,
    groups,
    allowlists: new CveAllowlistRepository(db),
    endpoints: { typeOf: async (id) => (await registries.get(id)).type },
    // Harbor gives every proxy-cache project a retention policy: keep what was pulled in the last 7 days, daily.
    onProxyProject: async (actor, p) => {
      await retention.create(
        actor,
        parsePolicy({
          algorithm: 'or',
          rules: [
            {
              disabled: false,
              action: 'retain',
              template: 'nDaysSinceLastPull',
              params: { nDaysSinceLastPull: 7 },
              tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }],
              scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] },
            },
          ],
          trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' }, references: {} },
          scope: { level: 'project', ref: p.id },
        }),
      );
    },
  });
  projectServiceRef.service = projectService;
  // An endpoint a proxy-cache project pulls through from cannot be deleted (Harbor's 412).
  registries.onDeleteCheck(async (id) => {
    const names = await projects.listProjectNamesUsingRegistry(id);
    return names.length ? `the registry ${id} is referenced by proxy cache project, cannot delete it` : null;
  });
  const blobService = new BlobService({ db, store, blobs: blobRows, repositories, quota: quotas });
  const uploadService = new UploadService({ db, store, uploads: new UploadRepository(db), blobs: blobRows, repositories, faults, quota: quotas });
  const proxy = new ProxyCacheService({
    registries,
    manifests: manifestService,
    blobs: blobService,
    uploads: uploadService,
    metadata: (id) => projects.findProjectMetadata(id),
    audit,
    readOnly: () => system.readOnly(),
    spoolDir: join(config.dataDir, 'proxy-spool'),
    warn: (m) => process.emitWarning(m),
  });
  return {
    services: {
      db,
      cacheBus,
      store,
      policy,
      auth,
      blobs: blobService,
      uploads: uploadService,
      proxy,
      manifests: manifestService,
      artifactDomain,
      retention,
      jobs,
      quotas,
      events: { outbox, dispatcher },
      gc: new GcService({ db, store, blobs: blobRows, gc: new GcRepository(db), graceMs: config.registry.gcGrace * 1000, faults }),
      repositories: { projects, users },
      audit,
      auditLogs,
      auditQueries: new AuditLogService(auditLogs),
      system,
      users: new UserService({ db, users, members, auth, audit }),
      robots,
      sessions: new SessionService(
        // In oidc_auth only the local admin logs in with a password (Harbor keeps that form for the admin).
        { sessions: new SessionRepository(db), users, auth, passwordLoginAllowed: async (u) => u === 'admin' || (await configs.get('auth_mode')) !== 'oidc_auth' },
        { idleTimeoutMs: config.auth.sessionIdleTimeout * 1000, lifetimeMs: config.auth.sessionLifetime * 1000 },
      ),
      configs,
      groups,
      ldap,
      ldapAuth,
      oidc,
      projects: projectService,
      metrics,
      webhooks,
      webhookDelivery,
      registries,
      replication,
      advisories,
      scanners,
      scans,
      systemAllowlist,
      signatures: { trustedKeys, contentTrust },
    },
    bootstrap,
  };
}

/**
 * Host (and port) clients pull from, as Harbor's resource_url shows it: the external URL's, else this host's
 * name with the listening port.
 */
export function registryHostOf(config: Config, port: number): string {
  if (config.http.externalUrl) return new URL(config.http.externalUrl).host;
  const host = config.http.host === '0.0.0.0' || config.http.host === '::' ? hostname() : config.http.host;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * First start: the built-in admin (password from config, or generated once) and the public `library` project,
 * with the admin as its project admin member (as Harbor's initial schema), so its member count is real.
 */
async function ensureDefaults(config: Config, db: Db, users: UserRepository, projects: ProjectRepository, members: MemberRepository): Promise<Bootstrap> {
  let generated: string | null = null;
  if (!(await users.findUserByName('admin'))) {
    const password = config.auth.adminInitialPassword || (generated = generatePassword());
    const hash = await hashPassword(password);
    const created = await db.tx(async (q) => {
      // Another process may have won the race; only the winner reports a generated password.
      const exists = await q.get('SELECT id FROM users WHERE username = ?', ['admin']);
      if (exists) return false;
      await users.saveUser({ username: 'admin', email: 'admin@example.com', realname: 'system admin', passwordHash: hash, sysadmin: true }, q);
      return true;
    });
    if (!created) generated = null;
  }
  if (!(await projects.findProjectByName('library'))) {
    await db.tx(async (q) => {
      const admin = await users.findUserByName('admin');
      if (await q.get('SELECT id FROM projects WHERE name = ?', ['library'])) return;
      const lib = await projects.saveProject({ name: 'library', public: true, ownerId: admin?.id ?? null }, q);
      if (admin) await members.saveMember({ projectId: lib.id, entityType: 'u', entityId: admin.id, roleId: Roles.ProjectAdmin }, q);
    });
  }
  return { generatedAdminPassword: generated };
}
