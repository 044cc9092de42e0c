// Token scopes: `type:name:actions`, where the name may itself contain ':' (a registry host:port prefix).
// One query parameter may carry several space-separated scopes.
export interface Scope {
  type: string;
  name: string;
  actions: string[];
}

export function parseScopes(params: string[]): Scope[] {
  const out: Scope[] = [];
  for (const p of params)
    for (const s of p.split(' ')) {
      if (!s) continue;
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      if (first < 0 || last === first) continue;
      out.push({ type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) });
    }
  return out.slice(0, 64);
}
