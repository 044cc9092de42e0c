// Builds the artifact domain of the management API (repositories, artifacts, labels) and the pull recorder
// the registry's manifest GETs feed. One call from the composition root (app.ts).
import type { Db } from '../../db/db.ts';
import { ArtifactQueryRepository } from '../../repositories/artifact-query-repository.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import { LabelRepository } from '../../repositories/label-repository.ts';
import type { Manifest, ManifestRepository } from '../../repositories/manifest-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { EventPublisher } from '../events/types.ts';
import type { ManifestService, OnPull } from '../registry/manifest-service.ts';
import type { QuotaService } from '../registry/quota-service.ts';
import { ArtifactService } from './artifact-service.ts';
import type { ImmutabilityService } from './immutability-service.ts';
import { LabelService } from './label-service.ts';
import { PullRecorder } from './pull-recorder.ts';
import { RepositoryService } from './repository-service.ts';

export interface ArtifactDomain {
  artifacts: ArtifactService;
  repos: RepositoryService;
  labels: LabelService;
  immutability: ImmutabilityService;
  /** Batched pull time / pull count writes; closed (flushed) when the HTTP server closes. */
  pulls: PullRecorder;
}

/** The pull recorder first: ManifestService takes `onPull` from it before the domain services exist. */
export function createPullRecorder(db: Db, events: EventPublisher): { pulls: PullRecorder; onPull: OnPull } {
  const pulls = new PullRecorder({
    db,
    events,
    repo: new ArtifactQueryRepository(db),
    onError: (err) => process.emitWarning(`pull time/count flush failed: ${(err as Error).message}`),
  });
  return { pulls, onPull: (m, tag, event) => pulls.record(m, tag, Date.now(), event) };
}

export function buildArtifactDomain(deps: {
  db: Db;
  store: BlobStore;
  manifests: ManifestService;
  manifestRows: ManifestRepository;
  blobs: BlobRepository;
  repositories: RepositoryRepository;
  quota: QuotaService;
  audit: AuditSink;
  events: EventPublisher;
  pulls: PullRecorder;
  immutability: ImmutabilityService;
}): ArtifactDomain {
  const query = new ArtifactQueryRepository(deps.db);
  const labels = new LabelRepository(deps.db);
  return {
    artifacts: new ArtifactService({ ...deps, query, labels }),
    repos: new RepositoryService({ db: deps.db, query, audit: deps.audit, events: deps.events, immutability: deps.immutability }),
    labels: new LabelService({ labels, audit: deps.audit }),
    pulls: deps.pulls,
    immutability: deps.immutability,
  };
}
