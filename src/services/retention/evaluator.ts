// Tag retention evaluated exactly as Harbor's (pkg/retention: launcher, policy/alg/or, rule/*, lib/selector):
// per repository, the enabled rules whose repository selectors select it apply; each rule filters the
// repository's candidates (one per artifact, with all its tags) through its tag and label selectors and its
// template yields the candidates it RETAINS; the union of every rule's retained set is kept and every other
// candidate of the repository is deleted (so a repository whose rules retain nothing loses everything, as in
// Harbor). Pure functions: no database, no clock (the caller passes `now`).
import { doublestar } from '../artifact/doublestar.ts';

export interface RetentionSelector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}
export interface RetentionRule {
  id?: number;
  priority?: number;
  disabled?: boolean;
  action: string;
  template: string;
  params?: Record<string, unknown>;
  tag_selectors: RetentionSelector[];
  scope_selectors: Record<string, RetentionSelector[]>;
}

/** One artifact of a repository as retention sees it (Harbor's selector.Candidate). */
export interface Candidate {
  digest: string;
  tags: string[];
  labels: string[];
  /** Epoch seconds: the latest of the artifact's and its tags' push times. */
  pushedTime: number;
  /** Epoch seconds: the latest pull of the artifact or its tags (0 when never pulled). */
  pulledTime: number;
}

/** Harbor's templates with their parameter defaults (used when the parameter is missing or invalid). */
export const TEMPLATE_DEFAULTS: Readonly<Record<string, number | null>> = {
  latestPushedK: 10,
  latestPulledN: 10,
  nDaysSinceLastPush: 30,
  nDaysSinceLastPull: 30,
  lastXDays: 10,
  latestActiveK: 10,
  always: null,
  nothing: null,
};
export const TEMPLATES = Object.keys(TEMPLATE_DEFAULTS);

const DAY = 24 * 3600;

/** Harbor's utils.ParseJSONInt: a JSON number (or numeric string) that is an integer; negative → default. */
function param(rule: RetentionRule): number {
  const def = TEMPLATE_DEFAULTS[rule.template] ?? 0;
  const v = rule.params?.[rule.template];
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.trunc(n) : def;
}

/** Harbor's doublestar match: an empty pattern matches everything; a bad pattern matches nothing. */
function matcher(pattern: string): (s: string) => boolean {
  if (pattern === '') return () => true;
  try {
    return doublestar(pattern);
  } catch {
    return () => false;
  }
}

/** Whether the rule's repository selectors (all of them, ANDed) select `repository` (name without project). */
export function ruleSelectsRepository(rule: RetentionRule, repository: string): boolean {
  for (const s of rule.scope_selectors?.repository ?? []) {
    const m = matcher(s.pattern);
    if (s.decoration === 'repoMatches' && !m(repository)) return false;
    if (s.decoration === 'repoExcludes' && m(repository)) return false;
    if (s.decoration !== 'repoMatches' && s.decoration !== 'repoExcludes') return false;
  }
  return true;
}

/** Harbor's tag / label selectors as candidate filters. */
function selectorFilter(s: RetentionSelector): (c: Candidate) => boolean {
  if (s.kind === 'label') {
    const labels = s.pattern ? s.pattern.split(',') : [];
    if (s.decoration === 'withLabels') return (c) => labels.every((l) => c.labels.includes(l));
    if (s.decoration === 'withoutLabels') return (c) => labels.every((l) => !c.labels.includes(l));
    return () => true;
  }
  // doublestar on tags. Untagged artifacts: Harbor's default is "kept in scope" for matches and "out" for
  // excludes, unless extras says {"untagged": bool}.
  let untagged = s.decoration !== 'excludes';
  if (s.extras) {
    try {
      const e = JSON.parse(s.extras) as { untagged?: unknown };
      untagged = e?.untagged === true;
    } catch {
      /* Harbor ignores unparsable extras */
    }
  }
  const m = matcher(s.pattern);
  // matches: any tag matches; excludes: any tag does not match (Harbor's tagSelectMatch / tagSelectExclude).
  if (s.decoration === 'matches') return (c) => (c.tags.length ? c.tags.some(m) : untagged);
  if (s.decoration === 'excludes') return (c) => (c.tags.length ? c.tags.some((t) => !m(t)) : !untagged);
  return () => false;
}

/** What one rule retains among `candidates` (already the repository's). */
export function retainedBy(rule: RetentionRule, candidates: readonly Candidate[], nowSeconds: number): Candidate[] {
  let selected = candidates.slice();
  for (const s of rule.tag_selectors ?? []) selected = selected.filter(selectorFilter(s));
  const n = param(rule);
  const byDesc = (f: (c: Candidate) => number) => selected.sort((a, b) => f(b) - f(a)).slice(0, n);
  switch (rule.template) {
    case 'latestPushedK':
      return byDesc((c) => c.pushedTime);
    case 'latestPulledN':
      return byDesc((c) => c.pulledTime);
    case 'latestActiveK':
      return byDesc((c) => Math.max(c.pushedTime, c.pulledTime));
    case 'nDaysSinceLastPush':
      return selected.filter((c) => c.pushedTime >= nowSeconds - n * DAY);
    case 'nDaysSinceLastPull':
      return selected.filter((c) => c.pulledTime >= nowSeconds - n * DAY);
    case 'lastXDays':
      // Harbor's lastx: pushed strictly after the cutoff (time.After), by push time like nDaysSinceLastPush.
      return selected.filter((c) => c.pushedTime > nowSeconds - n * DAY);
    case 'always':
      return selected;
    case 'nothing':
    default:
      return [];
  }
}

export interface RepositoryVerdict {
  /** Whether any enabled rule applies to the repository (a repository no rule selects is left alone). */
  inScope: boolean;
  retained: Candidate[];
  deleted: Candidate[];
}

/** Harbor's OR algorithm over one repository. */
export function evaluateRepository(rules: readonly RetentionRule[], repository: string, candidates: readonly Candidate[], nowSeconds: number): RepositoryVerdict {
  const applicable = rules.filter((r) => !r.disabled && ruleSelectsRepository(r, repository));
  if (!applicable.length) return { inScope: false, retained: [], deleted: [] };
  const keep = new Set<string>();
  for (const r of applicable) for (const c of retainedBy(r, candidates, nowSeconds)) keep.add(c.digest);
  return { inScope: true, retained: candidates.filter((c) => keep.has(c.digest)), deleted: candidates.filter((c) => !keep.has(c.digest)) };
}
