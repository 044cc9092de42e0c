// Doublestar patterns as Harbor's selectors read them (github.com/bmatcuk/doublestar v1): `*` any run of
// characters but `/`, `**` any run including `/` (a whole `**/` component also matches no component), `?` one
// character but `/`, `[abc]`/`[a-z]`/`[^a]`/`[!a]` classes, `{a,b}` alternatives (nestable), `\x` a literal x.
// An empty pattern matches everything (Harbor's selector). Patterns compile once to an anchored RegExp.

export class BadPatternError extends Error {}

const special = /[.*+?^${}()|[\]\\/]/g;
const lit = (c: string) => c.replace(special, '\\$&');

function compile(p: string): string {
  let out = '';
  let i = 0;
  const parse = (inAlt: boolean): string => {
    let s = '';
    while (i < p.length) {
      const c = p[i];
      if (inAlt && (c === ',' || c === '}')) return s;
      i++;
      if (c === '\\') {
        if (i >= p.length) throw new BadPatternError('pattern ends with a backslash');
        s += lit(p[i++]);
      } else if (c === '*') {
        if (p[i] === '*') {
          i++;
          while (p[i] === '*') i++;
          // `**/` at a component start also matches zero components (`a/**/b` matches `a/b`).
          const atStart = s === '' || s.endsWith('/');
          if (p[i] === '/' && atStart) {
            i++;
            s += '(?:.*/)?';
          } else s += '.*';
        } else s += '[^/]*';
      } else if (c === '?') s += '[^/]';
      else if (c === '[') {
        let cls = '';
        let neg = false;
        if (p[i] === '^' || p[i] === '!') {
          neg = true;
          i++;
        }
        let first = true;
        while (i < p.length && (p[i] !== ']' || first)) {
          first = false;
          let ch = p[i++];
          if (ch === '\\') {
            if (i >= p.length) break;
            ch = p[i++];
          }
          cls += ch === '-' && cls !== '' && p[i] !== ']' ? '-' : ch.replace(/[\\\]^-]/g, '\\$&');
        }
        if (p[i] !== ']' || cls === '') throw new BadPatternError('unterminated character class');
        i++;
        s += neg ? `[^/${cls}]` : `[${cls}]`;
      } else if (c === '{') {
        const alts: string[] = [];
        for (;;) {
          alts.push(parse(true));
          if (i >= p.length) throw new BadPatternError('unterminated {alternatives}');
          if (p[i++] === '}') break;
        }
        s += `(?:${alts.join('|')})`;
      } else s += lit(c);
    }
    return s;
  };
  out = parse(false);
  return `^${out}$`;
}

/** A compiled pattern; throws BadPatternError for a malformed one. */
export function doublestar(pattern: string): (s: string) => boolean {
  if (pattern === '') return () => true;
  const re = new RegExp(compile(pattern), 's');
  return (s) => re.test(s);
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
