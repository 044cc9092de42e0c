// /api/v2.0 artifacts of a repository: list (Harbor's q/sort/with_* options), get, delete, copy, tags, labels,
// additions and accessories. Authorization by Harbor's role matrix on the project in the URL; every object id
// and digest is looked up inside that project's repository, so another project's ids are 404s.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import { parseDigest, validateName } from '../../oci/digest.ts';
import type { ArtifactFilter, ArtifactSortField } from '../../repositories/artifact-query-repository.ts';
import { typeCondition } from '../../services/artifact/artifact-model.ts';
import { encodeRepo, type ArtifactService } from '../../services/artifact/artifact-service.ts';
import {
  ACCESSORY_SCHEMA,
  actorOf,
  ARTIFACT_SCHEMA,
  CREATED,
  EMPTY,
  errs,
  flag,
  LABEL_SCHEMA,
  PAGE_QS,
  paged,
  plainJson,
  projectFor,
  repoParam,
  TAG_SCHEMA,
} from './artifact-access.ts';
import { API_PREFIX, bodyObject, headerFlag, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, parseQ, parseSort, setPageHeaders, splitTopLevel } from './query.ts';
import type { Condition } from '../../repositories/list-query.ts';

const ARTIFACT_SORT: readonly ArtifactSortField[] = ['push_time', 'pull_time', 'id', 'digest', 'media_type'];

const unquote = (s: string) => {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
};
function timeValue(s: string, key: string): number | null {
  const t = unquote(s);
  if (t === '') return null;
  if (/^[0-9]{1,15}$/.test(t)) return Number(t);
  const ms = Date.parse(t.includes('T') || t.endsWith('Z') ? t : t.replace(' ', 'T') + 'Z');
  if (!Number.isFinite(ms)) throw ApiErrors.badRequest(`invalid time for ${key}`);
  return ms;
}

/** Harbor's artifact `q`: tags, labels, base, digest, type, media_type, push_time, pull_time; other keys are ignored (as Harbor). */
export function parseArtifactQ(raw: string | null): ArtifactFilter {
  const f: ArtifactFilter = {};
  if (raw === null || raw.trim() === '') return f;
  if (raw.length > 2048) throw ApiErrors.badRequest('q is too long');
  const seen = new Set<string>();
  for (const part of splitTopLevel(raw)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw ApiErrors.badRequest(`invalid query: ${part.slice(0, 64)}`);
    const key = part.slice(0, eq).trim();
    const rest = part.slice(eq + 1).trim();
    if (seen.has(key)) throw ApiErrors.badRequest(`${key.slice(0, 64)} is given twice`);
    seen.add(key);
    if (rest.includes('\0') || rest.length > 1024) throw ApiErrors.badRequest(`invalid value for ${key.slice(0, 64)}`);
    switch (key) {
      case 'base':
        if (unquote(rest) !== '*') throw ApiErrors.badRequest('the value of "base" can only be "*"');
        f.all = true;
        break;
      case 'tags':
        if (rest.startsWith('~')) f.tags = { op: 'like', value: unquote(rest.slice(1)) };
        else if (/^[[{(]/.test(rest)) throw ApiErrors.badRequest('the value of "tags" can only be a fuzzy or exact match');
        else if (unquote(rest) === '*') f.tags = { op: 'any' };
        else if (unquote(rest) === 'nil') f.tags = { op: 'none' };
        else f.tags = { op: 'eq', value: unquote(rest) };
        break;
      case 'labels':
      case 'labels.id': {
        const inner = /^[({](.*)[)}]$/.exec(rest)?.[1] ?? rest;
        const ids = inner.split(/[\s,]+/).filter(Boolean);
        if (!ids.length || ids.length > 20 || !ids.every((v) => /^[0-9]{1,15}$/.test(v)))
          throw ApiErrors.badRequest('the value of "labels" can only be a list of label ids');
        f.labels = ids.map(Number);
        break;
      }
      case 'digest': {
        const values = /^\{(.*)\}$/.exec(rest)?.[1].split(' ').filter(Boolean) ?? [unquote(rest)];
        if (values.length > 100) throw ApiErrors.badRequest('too many digests');
        for (const d of values) {
          try {
            parseDigest(d);
          } catch {
            throw ApiErrors.badRequest('invalid digest');
          }
        }
        f.digest = values;
        break;
      }
      case 'type': {
        const c = typeCondition(unquote(rest));
        if (!c) throw ApiErrors.badRequest(`unknown artifact type ${unquote(rest).slice(0, 32)}`);
        f.type = c;
        break;
      }
      case 'media_type':
        if (rest.startsWith('~') || /^[[{(]/.test(rest)) throw ApiErrors.badRequest('media_type supports exact match only');
        f.mediaType = unquote(rest);
        break;
      case 'artifact_type':
        if (rest.startsWith('~') || /^[[{(]/.test(rest)) throw ApiErrors.badRequest('artifact_type supports exact match only');
        f.artifactType = unquote(rest);
        break;
      case 'push_time':
      case 'pull_time': {
        let range: { min: number | null; max: number | null };
        const m = /^\[(.*)~(.*)\]$/.exec(rest);
        if (m) range = { min: timeValue(m[1], key), max: timeValue(m[2], key) };
        else {
          if (/^[~[{(]/.test(rest)) throw ApiErrors.badRequest(`${key} supports an exact time or a range`);
          const t = timeValue(rest, key);
          range = { min: t, max: t };
        }
        if (key === 'push_time') f.pushTime = range;
        else f.pullTime = range;
        break;
      }
      default:
        // Not a filterable field: ignored, as Harbor's ORM does.
        break;
    }
  }
  return f;
}

type P = { project_name: string; repository_name: string; reference?: string; tag_name?: string; label_id?: string; addition?: string };
type Req = FastifyRequest<{ Params: P }>;
const params = (...extra: (keyof P)[]) => ({
  type: 'object',
  properties: Object.fromEntries(['project_name', 'repository_name', ...extra].map((k) => [k, { type: k === 'label_id' ? 'integer' : 'string' }])),
  required: ['project_name', 'repository_name', ...extra],
});
const WITH_QS = {
  with_tag: { type: 'boolean', default: true },
  with_label: { type: 'boolean', default: false },
  with_scan_overview: { type: 'boolean', default: false },
  with_sbom_overview: { type: 'boolean', default: false },
  with_signature: { type: 'boolean', default: false },
  with_immutable_status: { type: 'boolean', default: false },
  with_accessory: { type: 'boolean', default: false },
  with_inherited_accessory: { type: 'boolean', default: false },
};

export async function artifactRoutes(app: FastifyInstance, deps: ApiDeps & { artifacts: ArtifactService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { artifacts } = deps;
  const base = '/projects/:project_name/repositories/:repository_name/artifacts';

  /** Project (with `needed`) and repository of the URL. */
  const locate = async (req: Req, needed: Parameters<typeof projectFor>[4]) => {
    const { project, caller } = await projectFor(deps, auth, req, req.params.project_name, needed);
    const loc = await artifacts.locate(project, repoParam(req.params.repository_name));
    return { loc, caller };
  };
  /**
   * with_scan_overview: Harbor's `scan_overview` (the project scanner's summary per report MIME type) on the
   * artifacts that have a report, and the `vulnerabilities` addition link on the ones it can scan.
   */
  const withScans = async (projectId: number, items: Record<string, unknown>[], q: URLSearchParams) => {
    if (!flag(q, 'with_scan_overview', false) || !items.length) return items;
    const o = await deps.scans.overviews(projectId, items.map((i) => String(i.digest)));
    for (const i of items) {
      const ov = o.get(String(i.digest));
      if (ov) i.scan_overview = ov;
    }
    return items;
  };
  const viewOptions = (q: URLSearchParams) => {
    // Parsed for validation here; the scan overview and signature flags are read where they are used, SBOM overviews are not built.
    for (const n of ['with_scan_overview', 'with_sbom_overview']) flag(q, n, false);
    return {
      withTag: flag(q, 'with_tag', true),
      withImmutable: flag(q, 'with_immutable_status', false),
      withLabel: flag(q, 'with_label', false),
      withAccessory: flag(q, 'with_accessory', false),
      withSignature: flag(q, 'with_signature', false),
      withInheritedAccessory: flag(q, 'with_inherited_accessory', false),
    };
  };

  app.get(
    base,
    {
      schema: {
        operationId: 'listArtifacts',
        tags: ['artifact'],
        summary: 'List artifacts',
        params: params(),
        querystring: { type: 'object', properties: { ...PAGE_QS, ...WITH_QS } },
        response: { 200: paged(ARTIFACT_SCHEMA), ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc } = await locate(req, 'artifact:list');
      const q = queryOf(req);
      const page = parsePage(q);
      const filter = parseArtifactQ(q.get('q'));
      const sort = parseSort(q.get('sort'), ARTIFACT_SORT);
      const r = await artifacts.list(loc, filter, sort, page, viewOptions(q));
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return withScans(loc.project.id, r.items, q);
    },
  );

  app.post(
    base,
    {
      schema: {
        operationId: 'CopyArtifact',
        tags: ['artifact'],
        summary: 'Copy artifact',
        params: params(),
        querystring: { type: 'object', properties: { from: { type: 'string' } }, required: ['from'] },
        response: { 201: CREATED, ...errs(400, 401, 403, 404, 405, 500) },
      },
    },
    async (req: Req, reply) => {
      const { project, caller } = await projectFor(deps, auth, req, req.params.project_name, 'artifact:create');
      const repoName = repoParam(req.params.repository_name);
      const target = `${project.name}/${repoName}`;
      try {
        validateName(target);
      } catch {
        throw ApiErrors.badRequest('invalid repository name');
      }
      const from = queryOf(req).get('from') ?? '';
      const m = /^([^/@:]+)\/([^@:]+)(?:@(.+)|:([^:/@]+))$/.exec(from);
      if (!m) throw ApiErrors.badRequest('from must be project/repository:tag or project/repository@digest');
      const [, srcProjectName, srcRepo, digest, tag] = m;
      const src = await projectFor(deps, auth, req, srcProjectName, 'repository:pull');
      const source = await artifacts.locate(src.project, srcRepo);
      await artifacts.copy(actorOf(caller), project, target, source, digest ?? tag);
      // Harbor's Location names the reference as given in `from` (tag or digest).
      return reply
        .code(201)
        .header('Location', `${API_PREFIX}/projects/${project.name}/repositories/${encodeRepo(repoName)}/artifacts/${digest ?? tag}`)
        .send();
    },
  );

  app.get(
    `${base}/:reference`,
    {
      schema: {
        operationId: 'getArtifact',
        tags: ['artifact'],
        summary: 'Get the specific artifact',
        params: params('reference'),
        querystring: { type: 'object', properties: { page: PAGE_QS.page, page_size: PAGE_QS.page_size, ...WITH_QS } },
        response: { 200: ARTIFACT_SCHEMA, ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req) => {
      const { loc } = await locate(req, 'artifact:read');
      const q = queryOf(req);
      return (await withScans(loc.project.id, [await artifacts.get(loc, req.params.reference!, viewOptions(q))], q))[0];
    },
  );

  app.delete(
    `${base}/:reference`,
    {
      schema: {
        operationId: 'deleteArtifact',
        tags: ['artifact'],
        summary: 'Delete the specific artifact',
        params: params('reference'),
        response: { 200: EMPTY, ...errs(401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc, caller } = await locate(req, 'artifact:delete');
      await artifacts.remove(actorOf(caller), loc, req.params.reference!);
      return reply.send();
    },
  );

  // ---- tags

  app.get(
    `${base}/:reference/tags`,
    {
      schema: {
        operationId: 'listTags',
        tags: ['artifact'],
        summary: 'List tags',
        params: params('reference'),
        querystring: { type: 'object', properties: { ...PAGE_QS, with_immutable_status: { type: 'boolean', default: false } } },
        response: { 200: paged(TAG_SCHEMA), ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc } = await locate(req, 'tag:list');
      const q = queryOf(req);
      const withImmutable = flag(q, 'with_immutable_status', false);
      const page = parsePage(q);
      const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true } } as const);
      const sort = parseSort(q.get('sort'), ['name', 'push_time'] as const);
      const r = await artifacts.listTags(
        loc,
        req.params.reference!,
        {
          nameLike: where.name?.op === 'like' ? where.name.value : null,
          nameEq: where.name?.op === 'eq' ? String(where.name.value) : null,
        },
        { byName: sort[0]?.field === 'name', desc: sort[0]?.desc ?? false },
        page,
        withImmutable,
      );
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return r.items;
    },
  );

  app.post(
    `${base}/:reference/tags`,
    {
      schema: {
        operationId: 'createTag',
        tags: ['artifact'],
        summary: 'Create tag',
        params: params('reference'),
        body: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        response: { 201: CREATED, ...errs(400, 401, 403, 404, 405, 409, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc, caller } = await locate(req, 'tag:create');
      const name = bodyObject(req).name;
      await artifacts.createTag(actorOf(caller), loc, req.params.reference!, name);
      const repoName = loc.repo.name.slice(loc.project.name.length + 1);
      return reply
        .code(201)
        .header('Location', `${API_PREFIX}/projects/${loc.project.name}/repositories/${encodeRepo(repoName)}/artifacts/${req.params.reference}/tags/${name}`)
        .send();
    },
  );

  app.delete(
    `${base}/:reference/tags/:tag_name`,
    {
      schema: {
        operationId: 'deleteTag',
        tags: ['artifact'],
        summary: 'Delete tag',
        params: params('reference', 'tag_name'),
        response: { 200: EMPTY, ...errs(401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc, caller } = await locate(req, 'tag:delete');
      await artifacts.deleteTag(actorOf(caller), loc, req.params.reference!, req.params.tag_name!);
      return reply.send();
    },
  );

  // ---- accessories, additions

  app.get(
    `${base}/:reference/accessories`,
    {
      schema: {
        operationId: 'listAccessories',
        tags: ['artifact'],
        summary: 'List accessories',
        params: params('reference'),
        querystring: { type: 'object', properties: PAGE_QS },
        response: { 200: paged(ACCESSORY_SCHEMA), ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc } = await locate(req, 'accessory:list');
      const q = queryOf(req);
      const page = parsePage(q);
      // Harbor's accessory list filters on the accessory's columns: type, digest, artifact id, size.
      const where = parseQ(q.get('q'), {
        type: { type: 'string', fuzzy: true, union: true },
        digest: { type: 'string', union: true },
        artifact_id: { type: 'int', union: true },
        size: { type: 'int', range: true },
      } as const);
      const sort = parseSort(q.get('sort'), ['creation_time', 'id', 'size', 'type', 'digest'] as const);
      const all = await artifacts.listAccessories(loc, req.params.reference!, { limit: 10_000, offset: 0 });
      const matches = (v: unknown, c: Condition | undefined) => {
        if (!c) return true;
        if (c.op === 'eq') return v === c.value;
        if (c.op === 'in') return c.values.includes(v as never);
        if (c.op === 'like') return String(v).toLowerCase().includes(String(c.value).toLowerCase());
        return (c.min === null || Number(v) >= Number(c.min)) && (c.max === null || Number(v) <= Number(c.max));
      };
      const items = all.items.filter((a) => matches(a.type, where.type) && matches(a.digest, where.digest) && matches(a.artifact_id, where.artifact_id) && matches(a.size, where.size));
      const key = (a: Record<string, unknown>, f: (typeof sort)[number]['field']) => a[f === 'id' ? 'id' : f] as string | number;
      if (sort.length)
        items.sort((x, y) => {
          for (const s of sort) {
            const a = key(x, s.field);
            const b = key(y, s.field);
            if (a !== b) return (a < b ? -1 : 1) * (s.desc ? -1 : 1);
          }
          return 0;
        });
      setPageHeaders(reply, req.raw.url ?? '', items.length, page);
      return items.slice(page.offset, page.offset + page.limit);
    },
  );

  // Harbor's vulnerabilities addition: the report per MIME type the client accepts (X-Accept-Vulnerabilities,
  // default the generic and native types), `{}` while the artifact has no finished report.
  app.get(
    `${base}/:reference/additions/vulnerabilities`,
    {
      schema: {
        operationId: 'getVulnerabilitiesAddition',
        tags: ['artifact'],
        summary: 'Get the vulnerabilities addition of the specific artifact',
        params: params('reference'),
        response: { 200: { type: 'string' }, ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc } = await locate(req, 'artifact-addition:read');
      const row = await artifacts.resolve(loc.repo, req.params.reference!);
      const h = req.headers['x-accept-vulnerabilities'];
      const accept = (Array.isArray(h) ? h.join(',') : (h ?? '')).split(',').map((x) => x.trim()).filter(Boolean);
      const body = await deps.scans.vulnerabilities(loc.project.id, row.digest, accept);
      return reply.header('Content-Type', 'application/json').serializer((x: unknown) => x as string).send(JSON.stringify(body));
    },
  );

  app.get(
    '/projects/:project_name_or_id/artifacts',
    {
      schema: {
        operationId: 'listArtifactsOfProject',
        tags: ['project'],
        summary: 'List artifacts',
        params: { type: 'object', properties: { project_name_or_id: { type: 'string' } }, required: ['project_name_or_id'] },
        querystring: {
          type: 'object',
          // with_signature is not among Harbor's parameters here (older clients send it on the repository list only).
          properties: {
            ...PAGE_QS,
            ...Object.fromEntries(Object.entries(WITH_QS).filter(([k]) => k !== 'with_signature')),
            latest_in_repository: { type: 'boolean', default: false },
          },
        },
        response: { 200: paged(ARTIFACT_SCHEMA), ...errs(400, 401, 403, 404, 422, 500) },
      },
    },
    async (req: FastifyRequest<{ Params: { project_name_or_id: string } }>, reply) => {
      const ref = req.params.project_name_or_id;
      const { project } = await projectFor(deps, auth, req, ref, 'artifact:list', headerFlag(req, 'X-Is-Resource-Name') || !/^[0-9]{1,15}$/.test(ref));
      const q = queryOf(req);
      const page = parsePage(q);
      const r = await artifacts.listOfProject(
        project,
        parseArtifactQ(q.get('q')),
        flag(q, 'latest_in_repository', false),
        parseSort(q.get('sort'), ARTIFACT_SORT),
        page,
        viewOptions(q),
      );
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return withScans(project.id, r.items, q);
    },
  );

  app.get(
    `${base}/:reference/additions/:addition`,
    {
      schema: {
        operationId: 'getAddition',
        tags: ['artifact'],
        summary: 'Get the addition of the specific artifact',
        params: params('reference', 'addition'),
        response: { 200: { type: 'string' }, ...errs(400, 401, 403, 404, 422, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc } = await locate(req, 'artifact-addition:read');
      const a = await artifacts.addition(loc, req.params.reference!, req.params.addition!);
      return reply.header('Content-Type', a.contentType).header('X-Content-Type-Options', 'nosniff').serializer((x: unknown) => x as string).send(a.body);
    },
  );

  // ---- labels

  app.post(
    `${base}/:reference/labels`,
    {
      schema: {
        operationId: 'addLabel',
        tags: ['artifact'],
        summary: 'Add label to artifact',
        params: params('reference'),
        // Harbor's Label: only the id is used.
        body: { type: 'object', properties: LABEL_SCHEMA.properties },
        response: { 200: EMPTY, ...errs(400, 401, 403, 404, 409, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc, caller } = await locate(req, 'artifact-label:create');
      const id = bodyObject(req).id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw ApiErrors.badRequest('the label id is required');
      await artifacts.addLabel(actorOf(caller), loc, req.params.reference!, id);
      return reply.send();
    },
  );

  app.delete(
    `${base}/:reference/labels/:label_id`,
    {
      schema: {
        operationId: 'removeLabel',
        tags: ['artifact'],
        summary: 'Remove label from artifact',
        params: params('reference', 'label_id'),
        response: { 200: EMPTY, ...errs(401, 403, 404, 409, 500) },
      },
    },
    async (req: Req, reply) => {
      const { loc, caller } = await locate(req, 'artifact-label:delete');
      await artifacts.removeLabel(actorOf(caller), loc, req.params.reference!, pathId(req.params.label_id, 'label id'));
      return reply.send();
    },
  );
}
