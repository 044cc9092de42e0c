// Tags list, catalog and referrers: paginated listings with `n`/`last` and a `Link` header.
import { Errors } from '../../errors.ts';
import { parseDigest } from '../../oci/digest.ts';
import { MediaType } from '../../oci/media-types.ts';
import type { V2Handler, V2Request } from './context.ts';

/** Harbor's text (server/middleware/v2auth) when the caller may not list the catalog. */
const CATALOG_DENIED = 'unauthorized to list catalog';

function pageSize(r: V2Request, max: number, dflt: number): number {
  const n = r.query.get('n');
  if (n === null || n === '') return dflt;
  if (!/^\d{1,9}$/.test(n)) throw Errors.paginationInvalid('n must be a non-negative integer');
  return Math.min(Number(n), max);
}

/** `last`: names and tags never contain NUL (which PostgreSQL also refuses in text parameters). */
function lastParam(r: V2Request): string | null {
  const last = r.query.get('last');
  if (last !== null && last.includes('\0')) throw Errors.paginationInvalid('last must not contain NUL');
  return last;
}

function link(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

export const listTags: V2Handler = async (d, r) => {
  await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  const max = d.config.registry.tagsMaxEntries;
  const n = pageSize(r, max, max);
  if (!(await d.manifests.repositoryExists(r.name))) throw Errors.nameUnknown(r.name);
  const last = lastParam(r);
  const tags = n === 0 ? [] : await d.manifests.listTags(r.name, n, last);
  if (n > 0 && tags.length === n) r.reply.header('Link', link(`/v2/${r.name}/tags/list`, n, tags[tags.length - 1]));
  return r.reply.code(200).header('Content-Type', 'application/json').send(JSON.stringify({ name: r.name, tags }));
};

export const catalog: V2Handler = async (d, r) => {
  if (r.caller.scheme === 'none') throw d.auth.challenge(r.req, 'registry:catalog:*');
  if (!(await d.auth.canListCatalog(r.caller))) {
    if (r.caller.scheme === 'bearer') throw d.auth.challenge(r.req, 'registry:catalog:*', 'insufficient_scope', CATALOG_DENIED);
    throw Errors.denied(CATALOG_DENIED);
  }
  const max = d.config.registry.catalogMaxEntries;
  const n = pageSize(r, max, Math.min(100, max));
  const names = n === 0 ? [] : await d.manifests.listRepositoryNames(n, lastParam(r));
  if (n > 0 && names.length === n) r.reply.header('Link', link('/v2/_catalog', n, names[names.length - 1]));
  return r.reply.code(200).header('Content-Type', 'application/json').send(JSON.stringify({ repositories: names }));
};

export const referrers: V2Handler = async (d, r) => {
  parseDigest(r.ref);
  await d.auth.authorize(r.req, r.caller, r.name, ['pull']);
  const artifactType = r.query.get('artifactType');
  // No manifest has an artifactType with NUL in it (see oci/manifest.ts): nothing matches such a filter.
  const list = artifactType?.includes('\0') ? [] : await d.manifests.listReferrers(r.name, r.ref, artifactType);
  if (artifactType !== null) r.reply.header('OCI-Filters-Applied', 'artifactType');
  const manifests = list.map((m) => {
    const desc: Record<string, unknown> = { mediaType: m.mediaType, digest: m.digest, size: m.size };
    if (m.artifactType) desc.artifactType = m.artifactType;
    if (m.annotations) desc.annotations = m.annotations;
    return desc;
  });
  return r.reply
    .code(200)
    .header('Content-Type', MediaType.OciIndex)
    // A Buffer keeps Fastify from appending `; charset=utf-8`: clients compare the media type exactly.
    .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests })));
};
