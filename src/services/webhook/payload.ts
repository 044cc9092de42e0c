// What a webhook target receives for a domain event, in Harbor's three shapes: the Default JSON payload
// (pkg/notifier/model.Payload), a CloudEvent in structured mode (Harbor 2.10+, same event_data as `data`), and
// Slack's incoming-webhook blocks (Harbor's slack template). Built when the event is handled, so a delivery
// sends what was true at the change, not what the registry looks like at the (maybe much later) retry.
import { CloudEvent, HTTP } from 'cloudevents';
import type { DomainEvent, EventData, WebhookEventType } from '../../events.ts';
import { rfc3339 } from '../../time.ts';

export interface HarborResource {
  digest?: string;
  tag?: string;
  resource_url?: string;
  /** Scanning events: Harbor's scan summaries keyed by report MIME type. */
  scan_overview?: Record<string, unknown>;
}
export interface HarborRepository {
  date_created?: number;
  name: string;
  namespace: string;
  repo_full_name: string;
  repo_type: 'public' | 'private';
}
export interface HarborEventData {
  resources?: HarborResource[];
  repository?: HarborRepository;
  custom_attributes?: Record<string, string>;
  /** TAG_RETENTION: Harbor's retention summary. */
  retention?: Record<string, unknown>;
  /** Scanning events: the scan type. */
  scan?: { scan_type: string };
}
export interface HarborPayload {
  type: string;
  /** Seconds since the epoch. */
  occur_at: number;
  operator: string;
  event_data?: HarborEventData;
}

/** Harbor's CloudEvents `type` per event (formats/cloudevents.go). */
const CLOUDEVENT_TYPES: Record<WebhookEventType, string> = {
  PUSH_ARTIFACT: 'harbor.artifact.pushed',
  PULL_ARTIFACT: 'harbor.artifact.pulled',
  DELETE_ARTIFACT: 'harbor.artifact.deleted',
  QUOTA_EXCEED: 'harbor.quota.exceeded',
  QUOTA_WARNING: 'harbor.quota.warned',
  REPLICATION: 'harbor.replication.status.changed',
  SCANNING_FAILED: 'harbor.scan.failed',
  SCANNING_COMPLETED: 'harbor.scan.completed',
  SCANNING_STOPPED: 'harbor.scan.stopped',
  TAG_RETENTION: 'harbor.tag_retention.finished',
};

// A tag never contains ':'; a digest always does.
const isDigest = (ref: string) => ref.includes(':');

/** Harbor's resource_url: `<registry host>/<repo>:<tag>` or `…@<digest>`. */
export const resourceUrl = (registryHost: string, repository: string, reference: string) =>
  `${registryHost}/${repository}${isDigest(reference) ? '@' : ':'}${reference}`;

export interface PayloadContext {
  /** Host (and port) clients pull from, as Harbor's external URL without the scheme. */
  registryHost: string;
  /** Creation time of the repository (epoch ms), when it still exists. */
  repositoryCreated: number | null;
  /** Whether the project is public, for events that do not carry it. */
  projectPublic: boolean;
}

/** The Default payload of a webhook-visible event (null for a type Berth does not raise yet). */
export function harborPayload(e: DomainEvent, ctx: PayloadContext): HarborPayload | null {
  const base = { type: e.type, occur_at: Math.floor(e.occurredAt / 1000), operator: e.operator };
  const repoOf = (projectName: string, repository: string, isPublic: boolean): HarborRepository => ({
    ...(ctx.repositoryCreated !== null ? { date_created: Math.floor(ctx.repositoryCreated / 1000) } : {}),
    name: repository.slice(repository.indexOf('/') + 1),
    namespace: projectName,
    repo_full_name: repository,
    repo_type: isPublic ? 'public' : 'private',
  });
  switch (e.type) {
    case 'PUSH_ARTIFACT':
    case 'PULL_ARTIFACT':
    case 'DELETE_ARTIFACT': {
      const d = e.data as EventData['PUSH_ARTIFACT'];
      // Harbor: the first tag, or the digest when the event has none.
      const reference = d.tags[0] ?? d.digest;
      return {
        ...base,
        event_data: {
          resources: [{ digest: d.digest, tag: reference, resource_url: resourceUrl(ctx.registryHost, d.repository, reference) }],
          repository: repoOf(d.projectName, d.repository, d.projectPublic),
        },
      };
    }
    case 'QUOTA_EXCEED':
    case 'QUOTA_WARNING': {
      const d = e.data as EventData['QUOTA_EXCEED'];
      return {
        ...base,
        event_data: {
          ...(d.digest ? { resources: [{ digest: d.digest }] } : {}),
          repository: repoOf(d.projectName, d.repository, ctx.projectPublic),
          custom_attributes: { Details: d.message },
        },
      };
    }
    case 'SCANNING_COMPLETED':
    case 'SCANNING_FAILED':
    case 'SCANNING_STOPPED': {
      // Harbor's scan payload (handler/webhook/scan): the artifact with its scan overview, and the scan type.
      const d = e.data as EventData['SCANNING_COMPLETED'];
      const report = (d.report ?? {}) as { scan_type?: string; scan_overview?: Record<string, unknown> };
      const tag = d.tags[0] ?? '';
      return {
        ...base,
        event_data: {
          resources: [{ digest: d.digest, tag, resource_url: resourceUrl(ctx.registryHost, d.repository, tag || d.digest), scan_overview: report.scan_overview ?? {} }],
          repository: repoOf(d.projectName, d.repository, d.projectPublic),
          scan: { scan_type: report.scan_type ?? 'vulnerability' },
        },
      };
    }
    case 'TAG_RETENTION': {
      // Harbor's retention event_data; the host clients pull from is the deployment's, known here.
      const d = e.data as { retention?: Record<string, unknown> };
      return { ...base, event_data: { retention: { ...(d.retention ?? {}), hostname: ctx.registryHost } } };
    }
    default:
      return null;
  }
}

export interface FormattedBody {
  contentType: string;
  body: string;
}

/** The body for an http target in `format` (Default or CloudEvents). */
export function formatHttp(format: string, e: DomainEvent, p: HarborPayload, source: { projectId: number; policyId: number }): FormattedBody {
  if (format === 'CloudEvents') {
    const ce = new CloudEvent({
      // The domain event's id: one per change, the same for every policy (receivers de-duplicate on it).
      id: e.id,
      source: `/projects/${source.projectId}/webhook/policies/${source.policyId}`,
      type: CLOUDEVENT_TYPES[e.type as WebhookEventType],
      time: rfc3339(p.occur_at * 1000),
      datacontenttype: 'application/json',
      data: p.event_data ?? {},
      operator: p.operator,
    });
    const m = HTTP.structured(ce);
    return { contentType: 'application/cloudevents+json', body: String(m.body) };
  }
  return { contentType: 'application/json', body: JSON.stringify(p) };
}

/** Slack's incoming-webhook message, block by block as Harbor's template lays it out. */
export function formatSlack(p: HarborPayload): FormattedBody {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const message = {
    blocks: [
      section('*Harbor webhook events*'),
      section(`*event_type:* ${p.type}`),
      section(`*occur_at:* <!date^${p.occur_at}^{date} at {time}|${new Date(p.occur_at * 1000).toUTCString()}>`),
      section(`*operator:* ${p.operator}`),
      section('*event_data:*'),
      section('```' + JSON.stringify(p.event_data ?? {}, null, '\t') + '```'),
    ],
  };
  return { contentType: 'application/json', body: JSON.stringify(message) };
}
