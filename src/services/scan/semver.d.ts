// The few functions of the `semver` package (no bundled types) that the scanner uses.
declare module 'semver' {
  interface SemVer {
    version: string;
    prerelease: (string | number)[];
  }
  function parse(v: string): SemVer | null;
  function compare(a: SemVer | string, b: SemVer | string): -1 | 0 | 1;
  const semver: { parse: typeof parse; compare: typeof compare };
  export default semver;
}
