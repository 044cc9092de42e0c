// The remote-registry driver seam the replication engine uses (Harbor's pkg/reg/adapter, Distribution's storage
// driver factory): an adapter per registry type, each registered by name with a factory; `GET
// /replication/adapters` lists exactly the registered names. Every adapter talks /v2 through the shared
// DistributionClient (auth, TLS, guard, streaming); they differ in how repositories are listed and in what
// must exist before a push (Harbor: the project).
import type { Readable } from 'node:stream';
import type { OutboundGuard } from '../http/outbound-guard.ts';
import type { RemoteCredential } from './distribution-client.ts';
import type { Descriptor } from '../../oci/manifest.ts';

/** Harbor's FilterStyle. */
export interface FilterStyle {
  type: string;
  style: string;
  values?: string[];
}

/** Harbor's RegistryInfo before the controller's `process` (resource types are merged into the filters there). */
export interface RegistryInfo {
  type: string;
  description: string;
  supportedResourceTypes: string[];
  supportedResourceFilters: FilterStyle[];
  supportedTriggers: string[];
  supportedCopyByChunk: boolean;
}

/** Harbor's AdapterPattern (adapter infos). */
export interface AdapterPattern {
  endpoint_pattern: { endpoint_type: string; endpoints: { key: string; value: string }[] };
  credential_pattern: { access_key_type: string; access_key_data: string; access_secret_type: string; access_secret_data: string };
}

export interface Manifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ManifestStat {
  mediaType: string;
  digest: string;
  size: number;
}

/** OCI descriptors (referrers lists, index children) are the manifest parser's type. */
export type { Descriptor } from '../../oci/manifest.ts';

export interface RepositoryFilter {
  /** Repositories to look at (required by adapters that cannot list: the `oci` one). */
  names?: string[];
  /** Keep names for which this returns true (name filters are the engine's; applied here to list lazily). */
  match?: (name: string) => boolean;
}

export interface BlobPutOptions {
  /** Send the blob in PATCH chunks of this many bytes (Harbor's copy_by_chunk); monolithic PUT otherwise. */
  chunkSize?: number;
}

/** The Berth-to-Berth side channel of a manifest PUT (src/oci/replication-headers.ts); other peers ignore it. */
export interface ManifestPutOptions {
  pushTime?: number;
  origin?: string;
}

/** A tag's state at a Berth peer (anti-entropy's comparison). */
export interface TagState {
  tag: string;
  digest: string;
  /** ms since the epoch. */
  pushTime: number;
}

export interface RegistryAdapter {
  readonly type: string;
  /** 'healthy' or 'unhealthy' (never throws for an unreachable or refusing remote). */
  health(): Promise<'healthy' | 'unhealthy'>;
  /** Pings /v2/ with the credential; throws with the reason when it fails. */
  ping(): Promise<void>;
  info(): Promise<RegistryInfo>;
  listRepositories(filter?: RepositoryFilter): Promise<string[]>;
  listTags(repo: string): Promise<string[]>;
  /** The manifest (bytes exactly as stored, media type, digest verified against the bytes); null when absent. */
  manifestGet(repo: string, ref: string): Promise<Manifest | null>;
  manifestHead(repo: string, ref: string): Promise<ManifestStat | null>;
  /** Puts a manifest; returns the digest the remote reports (or computed). */
  manifestPut(repo: string, ref: string, bytes: Buffer, mediaType: string, opts?: ManifestPutOptions): Promise<string>;
  manifestDelete(repo: string, digest: string): Promise<void>;
  /** Deletes one tag and keeps the artifact (Harbor's tag API); absent where the remote has no such operation. */
  tagDelete?(repo: string, tag: string, digest: string): Promise<void>;
  blobExists(repo: string, digest: string): Promise<boolean>;
  /** The blob as a stream (never buffered) with its size; null when absent. */
  blobGet(repo: string, digest: string): Promise<{ size: number; stream: Readable } | null>;
  blobPut(repo: string, digest: string, stream: Readable, size: number, opts?: BlobPutOptions): Promise<void>;
  /** Cross-repository mount; false when the remote did not mount (the caller then copies). */
  blobMount(repo: string, digest: string, fromRepo: string): Promise<boolean>;
  /** OCI 1.1 referrers of a manifest (the API, or the `sha256-<hex>` tag schema when the remote has no API). */
  listReferrers(repo: string, digest: string): Promise<Descriptor[]>;
  /**
   * Berth peers only (anti-entropy): the instance id, a hash of each repository's sorted tag→digest list, and
   * one repository's tag states. Absent on adapters whose remote has no such API.
   */
  instanceId?(): Promise<string>;
  tagHashes?(): Promise<Map<string, string>>;
  tagStates?(repo: string): Promise<TagState[]>;
  /** What must exist before pushing to these repositories (Harbor: projects). */
  prepareForPush(repos: string[]): Promise<void>;
  close(): void;
}

export interface EndpointSpec {
  url: string;
  credential?: RemoteCredential | null;
  insecure?: boolean;
  caCertificate?: string;
}

export interface AdapterDeps {
  guard: OutboundGuard;
  timeoutMs?: number;
  /** In-process bearer tokens (the local registry's adapter only). */
  tokenFor?: (scope: string) => Promise<string>;
}

export interface AdapterFactory {
  type: string;
  create(endpoint: EndpointSpec, deps: AdapterDeps): RegistryAdapter;
  pattern(): AdapterPattern;
}

/** Harbor's NewDefaultAdapterPattern: a free URL and a key/secret pair. */
export const DEFAULT_PATTERN = (): AdapterPattern => ({
  endpoint_pattern: { endpoint_type: 'EndpointPatternTypeStandard', endpoints: [] },
  credential_pattern: { access_key_type: 'AccessKeyTypeStandard', access_key_data: '', access_secret_type: 'AccessSecretTypePass', access_secret_data: '' },
});

/** The factories by name (one table per app, no module-level state: tests run several apps in one process). */
export class AdapterRegistry {
  private readonly factories = new Map<string, AdapterFactory>();
  register(f: AdapterFactory): this {
    if (this.factories.has(f.type)) throw new Error(`adapter ${f.type} is registered twice`);
    this.factories.set(f.type, f);
    return this;
  }
  types(): string[] {
    return [...this.factories.keys()].sort();
  }
  has(type: string): boolean {
    return this.factories.has(type);
  }
  patterns(): Record<string, AdapterPattern> {
    return Object.fromEntries(this.types().map((t) => [t, this.factories.get(t)!.pattern()]));
  }
  create(type: string, endpoint: EndpointSpec, deps: AdapterDeps): RegistryAdapter {
    const f = this.factories.get(type);
    if (!f) throw new Error(`adapter for ${type} not found`);
    return f.create(endpoint, deps);
  }
}
