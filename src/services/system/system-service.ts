// System-wide read models and switches: component health, general info (anonymous and authenticated views),
// storage volume, statistics, search, and the read-only mode every write checks. Runtime settings come from the
// configuration service (read per call; it caches).
import { randomUUID } from 'node:crypto';
import { readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../../config/config.ts';
import type { StatisticsRepository, RepositoryHit, StatScope } from '../../repositories/statistics-repository.ts';

/** The runtime settings this service reads (a subset of the configuration service's values). */
export interface SystemSettings {
  read_only: boolean;
  self_registration: boolean;
  project_creation_restriction: string;
  auth_mode: string;
  primary_auth_mode: boolean;
  oidc_name: string;
}

export interface ComponentHealth {
  name: string;
  status: 'healthy' | 'unhealthy';
  error?: string;
}

export interface SystemServiceDeps {
  config: Config;
  stats: StatisticsRepository;
  /** Artifact counts per repository id, as the repository API reports them (ArtifactQueryRepository.countArtifacts). */
  artifactCounts: (repositoryIds: readonly number[]) => Promise<Map<number, number>>;
  /** Sum of every project's quota usage (QuotaRepository.totalStorageUsage), Harbor's total_storage_consumption. */
  totalStorage: () => Promise<number>;
  settings: () => Promise<SystemSettings>;
  /** Berth's version (package.json), reported as harbor_version. */
  version: string;
  /** Probes the blob store (its driver's check; on a filesystem the service also writes and reads a file). */
  storage: () => Promise<void>;
  /** Probes the job service (its queue tables answer). */
  jobservice: () => Promise<unknown>;
  /** Longest a health probe may take before the component counts as unhealthy. */
  probeTimeoutMs?: number;
}

/** Harbor's message for writes refused in read-only mode. */
export const READ_ONLY_MESSAGE = 'The system is in read only mode. Any modification is prohibited.';

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

export class SystemService {
  private readonly d: SystemServiceDeps;
  constructor(d: SystemServiceDeps) {
    this.d = d;
  }

  /** Whether writes are refused (runtime setting read_only). */
  async readOnly(): Promise<boolean> {
    return (await this.d.settings()).read_only;
  }

  /** Probes the database, the blob storage (write, read back and delete a file) and the job service. */
  async health(): Promise<{ status: 'healthy' | 'unhealthy'; components: ComponentHealth[] }> {
    const ms = this.d.probeTimeoutMs ?? 5000;
    const probe = async (name: string, fn: () => Promise<unknown>): Promise<ComponentHealth> => {
      try {
        await withTimeout(fn(), ms, name);
        return { name, status: 'healthy' };
      } catch (err) {
        return { name, status: 'unhealthy', error: (err as Error).message.replaceAll(this.d.config.dataDir, '<data>') };
      }
    };
    // Harbor's component names (controller/health), sorted by name as it does; the blob-store probe is what
    // Harbor's `registry` check stands for (the registry's storage driver).
    const components = await Promise.all([
      probe('core', async () => {}),
      probe('database', () => this.d.stats.ping()),
      probe('jobservice', () => this.d.jobservice()),
      probe('registry', () => this.probeStorage()),
    ]);
    return { status: components.every((c) => c.status === 'healthy') ? 'healthy' : 'unhealthy', components };
  }

  private async probeStorage(): Promise<void> {
    const storage = this.d.config.storage;
    // Object stores: the driver's own probe (S3: HeadBucket with the configured credentials).
    if (storage.type !== 'filesystem') return this.d.storage();
    const file = join(storage.filesystemRoot, `.health-${randomUUID()}`);
    const token = randomUUID();
    try {
      await writeFile(file, token);
      if ((await readFile(file, 'utf8')) !== token) throw new Error('storage returned different bytes than were written');
    } finally {
      await rm(file, { force: true }).catch(() => {});
    }
  }

  /**
   * Harbor's GeneralInfo. Anonymous callers get the login-page fields only; authenticated ones also get the
   * URLs, version and switches. `baseUrl` is the external URL (configured, or derived from the request).
   */
  async info(authenticated: boolean, baseUrl: string): Promise<Record<string, unknown>> {
    const s = await this.d.settings();
    const out: Record<string, unknown> = {
      auth_mode: s.auth_mode,
      primary_auth_mode: s.primary_auth_mode,
      self_registration: s.self_registration,
      banner_message: '',
      // The portal's "LOGIN WITH <name>" button (Harbor's GeneralInfo.oidc_provider_name).
      oidc_provider_name: s.auth_mode === 'oidc_auth' ? s.oidc_name : '',
    };
    if (!authenticated) return out;
    return {
      ...out,
      external_url: baseUrl,
      registry_url: baseUrl.replace(/^https?:\/\//, ''),
      harbor_version: this.d.version,
      has_ca_root: false,
      project_creation_restriction: s.project_creation_restriction,
      read_only: s.read_only,
      registry_storage_provider_name: this.d.config.storage.type,
      notification_enable: false,
      current_time: new Date().toISOString(),
    };
  }

  /** Total and free bytes of the filesystem holding the blob storage (object stores: the data directory's, as Harbor reports its local volume). */
  async volumes(): Promise<{ total: number; free: number }> {
    const st = this.d.config.storage;
    const s = await statfs(st.type === 'filesystem' ? st.filesystemRoot : this.d.config.dataDir);
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
  }

  /**
   * Harbor's Statistic: public counts for everyone; a system admin gets every project and the storage used, others
   * the private projects they are members of (totals are what the caller can see).
   */
  async statistics(scope: StatScope): Promise<Record<string, number>> {
    const all = await this.d.stats.countAll();
    if (scope.all) {
      return {
        private_project_count: all.totalProjects - all.publicProjects,
        private_repo_count: all.totalRepos - all.publicRepos,
        public_project_count: all.publicProjects,
        public_repo_count: all.publicRepos,
        total_project_count: all.totalProjects,
        total_repo_count: all.totalRepos,
        total_storage_consumption: await this.d.totalStorage(),
      };
    }
    const priv = await this.d.stats.countPrivate(scope.memberOf);
    return {
      private_project_count: priv.projects,
      private_repo_count: priv.repos,
      public_project_count: all.publicProjects,
      public_repo_count: all.publicRepos,
      total_project_count: all.publicProjects + priv.projects,
      total_repo_count: all.publicRepos + priv.repos,
      total_storage_consumption: 0,
    };
  }

  /** Repositories matching `text` that the scope sees, with their artifact counts. */
  async searchRepositories(scope: StatScope, text: string, limit: number): Promise<(RepositoryHit & { artifactCount: number })[]> {
    const hits = await this.d.stats.listRepositoriesMatching(scope, text, limit);
    const counts = await this.d.artifactCounts(hits.map((h) => h.repositoryId));
    return hits.map((h) => ({ ...h, artifactCount: counts.get(h.repositoryId) ?? 0 }));
  }

  repositoryCounts(projectIds: readonly number[]): Promise<Map<number, number>> {
    return this.d.stats.countRepositoriesByProject(projectIds);
  }
}
