// Docker registry bearer tokens, as Harbor issues them: RS256 JWTs signed by a key generated on first start
// (kept in the database so every process of a deployment shares it). Verification pins the algorithm, key,
// issuer and audience and ignores any key material in the header (jwk/x5c/jku forgery).
import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, verify, createHash, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { SettingsRepository } from '../../repositories/settings-repository.ts';
import type { RepositoryAction } from './principal.ts';
import { isSealed, SecretKeyError, type SecretBox } from '../security/secret-box.ts';

export const TOKEN_ISSUER = 'harbor-token-issuer';
export const TOKEN_SERVICE = 'harbor-registry';
const LEEWAY_S = 60;

export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}
export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
}

const b64u = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** libtrust key id: SHA-256 of the DER public key, first 240 bits in 12 base32 groups of 4. */
function libtrustKeyId(pub: KeyObject): string {
  const der = pub.export({ type: 'spki', format: 'der' });
  const h = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const byte of h) bits += byte.toString(2).padStart(8, '0');
  let s = '';
  for (let i = 0; i < bits.length; i += 5) s += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return s.match(/.{4}/g)!.join(':');
}

export class TokenService {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;
  private readonly ttlSeconds: number;
  /** The runtime token_expiration (minutes), when set; the constructor's value otherwise. */
  private ttlMinutesSource: (() => number) | null = null;
  // Verified tokens, so a pull of many layers verifies one signature once.
  private readonly verified = new Map<string, TokenClaims>();

  private constructor(privatePem: string, ttlMinutes: number) {
    this.privateKey = createPrivateKey(privatePem);
    this.publicKey = createPublicKey(this.privateKey);
    this.kid = libtrustKeyId(this.publicKey);
    this.ttlSeconds = ttlMinutes * 60;
  }

  /** With a passphrase-protected `box` the signing key is stored sealed (an existing plain one is sealed now). */
  static async create(settings: SettingsRepository, ttlMinutes: number, box?: SecretBox): Promise<TokenService> {
    const KEY = 'token.private_key';
    let stored = await settings.findSetting(KEY);
    if (!stored) {
      const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 3072 });
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      stored = await settings.saveSettingIfAbsent(KEY, box?.protectedAtRest ? box.seal(pem) : pem);
    }
    if (isSealed(stored)) {
      if (!box) throw new SecretKeyError('the token signing key is stored encrypted and no data key is available');
      return new TokenService(box.open(stored), ttlMinutes);
    }
    if (box?.protectedAtRest) await settings.replaceSetting(KEY, stored, box.seal(stored));
    return new TokenService(stored, ttlMinutes);
  }

  /** Reads the lifetime (minutes) from the runtime configuration from now on. */
  useTtlSource(minutes: () => number): void {
    this.ttlMinutesSource = minutes;
  }

  get expiresIn(): number {
    return this.ttlMinutesSource ? this.ttlMinutesSource() * 60 : this.ttlSeconds;
  }

  issue(subject: string, access: AccessEntry[], now = Math.floor(Date.now() / 1000)): { token: string; claims: TokenClaims } {
    const claims: TokenClaims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: TOKEN_SERVICE,
      exp: now + this.expiresIn,
      nbf: now,
      iat: now,
      jti: randomBytes(12).toString('base64url'),
      access,
    };
    const header = b64u(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: this.kid }));
    const payload = b64u(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${header}.${payload}`), this.privateKey).toString('base64url');
    return { token: `${header}.${payload}.${sig}`, claims };
  }

  /** Returns the claims of a valid token, or null. Never throws on malformed input. */
  verify(token: string, now = Math.floor(Date.now() / 1000)): TokenClaims | null {
    const cached = this.verified.get(token);
    if (cached) return cached.exp + LEEWAY_S >= now ? cached : (this.verified.delete(token), null);
    if (token.length > 64 * 1024 || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token)) return null;
    const parts = token.split('.');
    // Only the canonical encoding of the signature: no trailing bits or characters, so one token has one spelling.
    const signature = Buffer.from(parts[2], 'base64url');
    if (signature.toString('base64url') !== parts[2]) return null;
    let header: Record<string, unknown>;
    let claims: TokenClaims;
    try {
      header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return null;
    }
    if (!header || header.alg !== 'RS256' || (header.kid !== undefined && header.kid !== this.kid)) return null;
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, signature)) return null;
    if (!claims || typeof claims !== 'object') return null;
    if (claims.iss !== TOKEN_ISSUER || claims.aud !== TOKEN_SERVICE) return null;
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || typeof claims.sub !== 'string') return null;
    if (claims.exp + LEEWAY_S < now || (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_S > now)) return null;
    if (!Array.isArray(claims.access)) return null;
    if (this.verified.size > 10000) this.verified.clear();
    this.verified.set(token, claims);
    return claims;
  }

  /** Actions a token grants on one repository. */
  static grantedActions(claims: TokenClaims, repositoryName: string): Set<RepositoryAction> {
    const out = new Set<RepositoryAction>();
    for (const a of claims.access)
      if (a && a.type === 'repository' && a.name === repositoryName && Array.isArray(a.actions))
        for (const x of a.actions) if (x === 'pull' || x === 'push' || x === 'delete') out.add(x);
    return out;
  }
}
