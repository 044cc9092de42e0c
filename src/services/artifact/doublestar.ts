// Doublestar patterns as Harbor's selectors read them (github.com/bmatcuk/doublestar v1): `*` any run of
// characters but `/`, `**` any run including `/` (a whole `**/` component also matches no component), `?` one
// character but `/`, `[abc]`/`[a-z]`/`[^a]`/`[!a]` classes, `{a,b}` alternatives (nestable), `\x` a literal x.
// An empty pattern matches everything (Harbor's selector). Patterns are written by project maintainers and
// matched on every push, so no backtracking RegExp: alternatives expand (at most 256) into token lists, each
// matched by dynamic programming in O(pattern × input).

export class BadPatternError extends Error {}

type Token =
  | { t: 'lit'; c: string }
  | { t: 'one' }
  | { t: 'star' }
  | { t: 'gstar' }
  /** `**​/` at a component start: nothing, or anything ending with `/`. */
  | { t: 'gslash' }
  | { t: 'cls'; neg: boolean; items: [string, string][] };

const MAX_ALTERNATIVES = 256;

function product(a: Token[][], b: Token[][]): Token[][] {
  if (a.length * b.length > MAX_ALTERNATIVES) throw new BadPatternError(`more than ${MAX_ALTERNATIVES} alternatives`);
  return a.flatMap((x) => b.map((y) => [...x, ...y]));
}

function parse(p: string): Token[][] {
  let i = 0;
  const seq = (inAlt: boolean): Token[][] => {
    let out: Token[][] = [[]];
    const push = (tok: Token) => {
      for (const s of out) s.push(tok);
    };
    const atComponentStart = () => out.every((s) => s.length === 0 || (s[s.length - 1].t === 'lit' && (s[s.length - 1] as { c: string }).c === '/') || s[s.length - 1].t === 'gslash');
    while (i < p.length) {
      const c = p[i];
      if (inAlt && (c === ',' || c === '}')) return out;
      i++;
      if (c === '\\') {
        if (i >= p.length) throw new BadPatternError('pattern ends with a backslash');
        push({ t: 'lit', c: p[i++] });
      } else if (c === '*') {
        if (p[i] === '*') {
          while (p[i] === '*') i++;
          if (p[i] === '/' && atComponentStart()) {
            i++;
            push({ t: 'gslash' });
          } else push({ t: 'gstar' });
        } else push({ t: 'star' });
      } else if (c === '?') push({ t: 'one' });
      else if (c === '[') {
        let neg = false;
        if (p[i] === '^' || p[i] === '!') {
          neg = true;
          i++;
        }
        const items: [string, string][] = [];
        const ch = () => {
          if (p[i] === '\\') i++;
          if (i >= p.length) throw new BadPatternError('unterminated character class');
          return p[i++];
        };
        while (i < p.length && (p[i] !== ']' || items.length === 0)) {
          const lo = ch();
          if (p[i] === '-' && p[i + 1] !== undefined && p[i + 1] !== ']') {
            i++;
            const hi = ch();
            if (hi < lo) throw new BadPatternError('bad range in character class');
            items.push([lo, hi]);
          } else items.push([lo, lo]);
        }
        if (p[i] !== ']') throw new BadPatternError('unterminated character class');
        i++;
        push({ t: 'cls', neg, items });
      } else if (c === '{') {
        let alts: Token[][] = [];
        for (;;) {
          alts = [...alts, ...seq(true)];
          if (alts.length > MAX_ALTERNATIVES) throw new BadPatternError(`more than ${MAX_ALTERNATIVES} alternatives`);
          if (i >= p.length) throw new BadPatternError('unterminated {alternatives}');
          if (p[i++] === '}') break;
        }
        out = product(out, alts);
      } else push({ t: 'lit', c });
    }
    return out;
  };
  return seq(false);
}

/** Whether the token list matches all of `s`: dp[i][j] = tokens[i..] match s[j..], filled from the end. */
function matchTokens(toks: Token[], s: string): boolean {
  const n = s.length;
  let next = new Uint8Array(n + 1);
  next[n] = 1; // no tokens left: only the empty rest matches
  for (let i = toks.length - 1; i >= 0; i--) {
    const cur = new Uint8Array(n + 1);
    const tok = toks[i];
    let slashAhead = 0; // gslash: some k ≥ j with s[k] === '/' and next[k + 1]
    for (let j = n; j >= 0; j--) {
      const ch = s[j];
      switch (tok.t) {
        case 'lit':
          cur[j] = j < n && ch === tok.c ? next[j + 1] : 0;
          break;
        case 'one':
          cur[j] = j < n && ch !== '/' ? next[j + 1] : 0;
          break;
        case 'cls': {
          if (j >= n || ch === '/') break;
          const inside = tok.items.some(([lo, hi]) => ch >= lo && ch <= hi);
          cur[j] = inside !== tok.neg ? next[j + 1] : 0;
          break;
        }
        case 'star':
          cur[j] = next[j] || (j < n && ch !== '/' ? cur[j + 1] : 0);
          break;
        case 'gstar':
          cur[j] = next[j] || (j < n ? cur[j + 1] : 0);
          break;
        case 'gslash':
          if (j < n && ch === '/' && next[j + 1]) slashAhead = 1;
          cur[j] = next[j] || slashAhead;
          break;
      }
    }
    next = cur;
  }
  return next[0] === 1;
}

/** A compiled pattern; throws BadPatternError for a malformed one. */
export function doublestar(pattern: string): (s: string) => boolean {
  if (pattern === '') return () => true;
  const alts = parse(pattern);
  return (s) => alts.some((toks) => matchTokens(toks, s));
}

/** Whether `pattern` is well formed. */
export function isValidPattern(pattern: string): boolean {
  try {
    doublestar(pattern);
    return true;
  } catch {
    return false;
  }
}
