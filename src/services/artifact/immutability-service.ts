// Tag immutability (Harbor's immutable tag rules, pkg/immutable): per-project rules of one repository selector
// and one tag selector (doublestar, include or exclude). A tag is immutable when any enabled rule matches it;
// repository patterns match the name without the project prefix, as Harbor's. The registry and artifact
// services ask `matcher()` inside their own transactions, so a push, a tag or artifact delete and a copy are
// refused in the same transaction that would have made the change; retention asks `isImmutable`.
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors, RegistryError } from '../../errors.ts';
import type { ImmutableRuleBody, ImmutableRuleRepository, ImmutableRuleRow, ImmutableSelector } from '../../repositories/immutable-rule-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import { BadPatternError, doublestar } from './doublestar.ts';

/** Harbor's portal caps a project at 15 rules; Berth enforces it on the API. */
export const MAX_IMMUTABLE_RULES = 15;
export const IMMUTABLE_TEMPLATE = 'immutable_template';
export const IMMUTABLE_ACTION = 'immutable';

/** Is `tag` of `repository` (without the project prefix) immutable under the rules loaded. */
export type TagMatcher = (repository: string, tag: string) => boolean;

/** Harbor's push refusal (middleware/immutable): 412 PRECONDITION on /v2. */
export class ImmutableTagError extends RegistryError {
  readonly tag: string;
  constructor(repository: string, tag: string) {
    super('PRECONDITION', `Failed to process request due to '${repository}:${tag}' configured as immutable.`);
    this.tag = tag;
  }
}
/** Harbor's tag controller refusal of a delete, on /v2 (artifact delete by digest, tag delete). */
export const immutableDeleteRegistryError = (tag: string) => new RegistryError('PRECONDITION', `the tag ${tag} configured as immutable, cannot be deleted`);
/** The same refusals on /api/v2.0. */
export const immutableDeleteError = (tag: string) => ApiErrors.precondition(`the tag ${tag} configured as immutable, cannot be deleted`);
export const immutableUpdateError = (tag: string) => ApiErrors.precondition(`the tag ${tag} configured as immutable, cannot be updated`);

const selectorMatch = (s: ImmutableSelector | undefined, include: string, exclude: string): ((v: string) => boolean) => {
  if (!s || s.kind !== 'doublestar') return () => false;
  let m: (v: string) => boolean;
  try {
    m = doublestar(s.pattern);
  } catch {
    return () => false; // Harbor: a selector that fails to match selects nothing.
  }
  if (s.decoration === include) return m;
  if (s.decoration === exclude) return (v) => !m(v);
  return () => false;
};

/** One rule as Harbor's matcher applies it: the first repository selector and the first tag selector. */
export function ruleMatcher(rule: ImmutableRuleBody): TagMatcher {
  const repo = selectorMatch(rule.scope_selectors?.repository?.[0], 'repoMatches', 'repoExcludes');
  const tag = selectorMatch(rule.tag_selectors?.[0], 'matches', 'excludes');
  return (r, t) => repo(r) && tag(t);
}

export function ruleView(r: ImmutableRuleRow) {
  return {
    id: r.id,
    disabled: r.disabled,
    priority: r.rule.priority,
    action: r.rule.action,
    template: r.rule.template,
    ...(r.rule.params ? { params: r.rule.params } : {}),
    tag_selectors: r.rule.tag_selectors,
    scope_selectors: r.rule.scope_selectors,
  };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseSelector(v: unknown, where: string, decorations: readonly string[]): ImmutableSelector {
  if (!isObj(v)) throw ApiErrors.badRequest(`${where} must be an object`);
  const { kind, decoration, pattern, extras } = v;
  if (kind !== 'doublestar') throw ApiErrors.badRequest(`${where}.kind must be doublestar`);
  if (typeof decoration !== 'string' || !decorations.includes(decoration)) throw ApiErrors.badRequest(`${where}.decoration must be one of ${decorations.join(', ')}`);
  if (typeof pattern !== 'string' || pattern === '') throw ApiErrors.badRequest(`${where}.pattern is required`);
  if (pattern.length > 1024) throw ApiErrors.badRequest(`${where}.pattern is too long`);
  try {
    doublestar(pattern);
  } catch (err) {
    if (err instanceof BadPatternError) throw ApiErrors.badRequest(`${where}.pattern ${JSON.stringify(pattern)} is invalid: ${err.message}`);
    throw err;
  }
  return { kind, decoration, pattern, ...(typeof extras === 'string' && extras !== '' ? { extras } : {}) };
}

/** The rule of a request body (Harbor's ImmutableRule); a 400 for what Harbor's matcher could not apply. */
export function parseRule(body: Record<string, unknown>): { rule: ImmutableRuleBody; disabled: boolean } {
  const { priority = 0, action = IMMUTABLE_ACTION, template = IMMUTABLE_TEMPLATE, disabled = false, params, tag_selectors, scope_selectors } = body;
  if (typeof priority !== 'number' || !Number.isInteger(priority)) throw ApiErrors.badRequest('priority must be an integer');
  if (action !== IMMUTABLE_ACTION && action !== '') throw ApiErrors.badRequest(`action must be ${IMMUTABLE_ACTION}`);
  if (template !== IMMUTABLE_TEMPLATE && template !== '') throw ApiErrors.badRequest(`template must be ${IMMUTABLE_TEMPLATE}`);
  if (typeof disabled !== 'boolean') throw ApiErrors.badRequest('disabled must be a boolean');
  if (params !== undefined && !isObj(params)) throw ApiErrors.badRequest('params must be an object');
  if (!Array.isArray(tag_selectors) || tag_selectors.length === 0) throw ApiErrors.badRequest('tag_selectors is required');
  if (!isObj(scope_selectors) || !Array.isArray(scope_selectors.repository) || scope_selectors.repository.length === 0)
    throw ApiErrors.badRequest('scope_selectors.repository is required');
  for (const k of Object.keys(scope_selectors)) if (k !== 'repository') throw ApiErrors.badRequest(`scope selector ${k.slice(0, 64)} is not supported`);
  // Harbor applies only the first selector of each; more would silently be ignored, so they are refused.
  if (tag_selectors.length > 1 || scope_selectors.repository.length > 1) throw ApiErrors.badRequest('a rule takes one tag selector and one repository selector');
  const rule: ImmutableRuleBody = {
    priority,
    action: IMMUTABLE_ACTION,
    template: IMMUTABLE_TEMPLATE,
    ...(params ? { params: params as Record<string, unknown> } : {}),
    tag_selectors: [parseSelector(tag_selectors[0], 'tag_selectors[0]', ['matches', 'excludes'])],
    scope_selectors: { repository: [parseSelector(scope_selectors.repository[0], 'scope_selectors.repository[0]', ['repoMatches', 'repoExcludes'])] },
  };
  return { rule, disabled };
}

/** The canonical form two equal rules share (the uniqueness key). */
const keyOf = (r: ImmutableRuleBody) =>
  JSON.stringify([r.priority, r.action, r.template, r.tag_selectors.map((s) => [s.kind, s.decoration, s.pattern, s.extras ?? '']), r.scope_selectors.repository.map((s) => [s.kind, s.decoration, s.pattern, s.extras ?? ''])]);

export class ImmutabilityService {
  private readonly db: Db;
  private readonly rules: ImmutableRuleRepository;
  private readonly audit: AuditSink;
  constructor(deps: { db: Db; rules: ImmutableRuleRepository; audit: AuditSink }) {
    this.db = deps.db;
    this.rules = deps.rules;
    this.audit = deps.audit;
  }

  async list(projectId: number, page: { limit: number; offset: number }): Promise<{ total: number; items: ReturnType<typeof ruleView>[] }> {
    const all = await this.rules.listRules(projectId);
    return { total: all.length, items: all.slice(page.offset, page.offset + page.limit).map(ruleView) };
  }

  async create(actor: string, projectId: number, body: Record<string, unknown>): Promise<number> {
    const { rule, disabled } = parseRule(body);
    const id = await this.db.tx(async (q) => {
      // The project row is locked (PostgreSQL) so two creations cannot both pass the limit.
      if (q.dialect === 'postgres') await q.get('SELECT id FROM projects WHERE id = ? FOR UPDATE', [projectId]);
      if ((await this.rules.countRules(projectId, q)) >= MAX_IMMUTABLE_RULES)
        throw ApiErrors.badRequest(`a project can have at most ${MAX_IMMUTABLE_RULES} immutable tag rules`);
      const id = await this.rules.saveNewRule(projectId, rule, keyOf(rule), disabled, q);
      if (id === null) throw ApiErrors.conflict('immutable rule already exists');
      return id;
    });
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'immutable-tag-rule', resource: String(id), projectId });
    return id;
  }

  /**
   * Harbor's update: a body whose `disabled` differs from the stored rule only toggles it (the portal's
   * enable/disable sends the whole rule); otherwise the rule is replaced.
   */
  async update(actor: string, projectId: number, id: number, body: Record<string, unknown>): Promise<void> {
    if (body.id !== id) throw ApiErrors.badRequest("the immutable_rule_id doesn't match the id in the payload body of ImmutableRule");
    await this.db.tx(async (q) => {
      const cur = await this.rules.findRule(projectId, id, q);
      if (!cur) throw ApiErrors.notFound(`immutable rule ${id} not found`);
      if (typeof body.disabled === 'boolean' && body.disabled !== cur.disabled) {
        await this.rules.saveDisabled(projectId, id, body.disabled, q);
        return;
      }
      const { rule } = parseRule({ ...body, disabled: cur.disabled });
      if (!(await this.rules.saveRule(projectId, id, rule, keyOf(rule), q))) throw ApiErrors.conflict('immutable rule already exists');
    });
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'immutable-tag-rule', resource: String(id), projectId });
  }

  async remove(actor: string, projectId: number, id: number): Promise<void> {
    if (!(await this.rules.removeRule(projectId, id))) throw ApiErrors.notFound(`immutable rule ${id} not found`);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'immutable-tag-rule', resource: String(id), projectId });
  }

  /** The project's enabled rules as one matcher (read with `q`, inside the caller's transaction). */
  async matcher(projectId: number, q?: Queryable): Promise<TagMatcher> {
    const ms = (await this.rules.listRules(projectId, q)).filter((r) => !r.disabled).map((r) => ruleMatcher(r.rule));
    return ms.length ? (repo, tag) => ms.some((m) => m(repo, tag)) : () => false;
  }

  /** Whether `tag` of `repository` (without the project prefix) is immutable now — for retention. */
  async isImmutable(projectId: number, repository: string, tag: string): Promise<boolean> {
    return (await this.matcher(projectId))(repository, tag);
  }
}
