// Digests and repository names, validated before they reach storage keys or SQL (path traversal starts here).
import { createHash, type Hash } from 'node:crypto';
import { Errors } from '../errors.ts';

export type Algorithm = 'sha256' | 'sha512';
const HEX_LEN: Record<Algorithm, number> = { sha256: 64, sha512: 128 };

export interface Digest {
  algorithm: Algorithm;
  hex: string;
  /** `algorithm:hex` */
  value: string;
}

const DIGEST_RE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses a digest; throws DIGEST_INVALID for anything but well-formed sha256/sha512 (lowercase hex). */
export function parseDigest(s: string | undefined | null): Digest {
  if (typeof s !== 'string' || s.length > 200) throw Errors.digestInvalid('invalid digest format');
  const m = DIGEST_RE.exec(s);
  if (!m) throw Errors.digestInvalid('invalid digest format', { digest: s });
  const alg = m[1];
  if (alg !== 'sha256' && alg !== 'sha512') throw Errors.digestInvalid(`unsupported digest algorithm ${alg}`, { digest: s });
  if (m[2].length !== HEX_LEN[alg] || !/^[a-f0-9]+$/.test(m[2])) throw Errors.digestInvalid('invalid digest format', { digest: s });
  return { algorithm: alg, hex: m[2], value: s };
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s) && s.includes(':');
}

export function parseAlgorithm(s: string | undefined): Algorithm {
  if (s === undefined || s === '') return 'sha256';
  if (s === 'sha256' || s === 'sha512') return s;
  throw Errors.digestInvalid(`unsupported digest algorithm ${s}`);
}

export function newHash(alg: Algorithm): Hash {
  return createHash(alg);
}

export function digestOf(data: Uint8Array, alg: Algorithm = 'sha256'): string {
  return `${alg}:${createHash(alg).update(data).digest('hex')}`;
}

// distribution-spec: <name> = [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME_RE = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const MAX_NAME_LENGTH = 255;

export function validateName(name: string): void {
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME_RE.test(name)) throw Errors.nameInvalid(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/** The project is the first path component; a repository needs at least project/repo. */
export function projectOf(name: string): string {
  const i = name.indexOf('/');
  return i < 0 ? '' : name.slice(0, i);
}
