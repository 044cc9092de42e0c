// Encryption at rest for secrets Berth must send on (a webhook target's auth_header, a replication endpoint's
// credential, the token signing key): AES-256-GCM with a data key generated on first start and kept in `settings`, so
// every process of a deployment decrypts what another stored; wrapped by the operator's passphrase when there is one.
// Values never reach logs: callers hold ciphertext until the moment of sending.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'v1:';

/** What the API shows for a stored secret (Harbor's convertRegistry); sent back unchanged it means "keep it". */
export const SECRET_MASK = '*****';
const SETTING = 'security.secret_key';

export interface SecretKeyStore {
  findSetting(key: string): Promise<string | null>;
  saveSettingIfAbsent(key: string, value: string): Promise<string>;
  /** Compare-and-set: replaces the value only while it is still `expected`. */
  replaceSetting(key: string, expected: string, value: string): Promise<void>;
}

/** Whether a stored value is sealed (rather than an older plain one). */
export const isSealed = (v: string): boolean => v.startsWith(PREFIX);

/** The stored keys cannot be opened with the configured passphrase (or none is configured): Berth must not start. */
export class SecretKeyError extends Error {}

function sealWith(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

function openWith(key: Buffer, sealed: string): string {
  if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed value');
  const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
  if (raw.length < 28) throw new Error('sealed value is truncated');
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
}

/**
 * Envelope encryption: one random data key per deployment seals every secret; it lives in `settings`, itself sealed
 * with a key derived from the operator's passphrase (security.secret_key) when one is configured. So a passphrase can
 * be added to a running deployment (its data key gets wrapped, nothing needs re-encrypting), and a stolen database
 * without the passphrase opens nothing.
 */
export class SecretBox {
  private readonly key: Buffer;
  /** Whether the data key is protected by a passphrase held outside the database. */
  readonly protectedAtRest: boolean;
  private constructor(key: Buffer, protectedAtRest: boolean) {
    this.key = key;
    this.protectedAtRest = protectedAtRest;
  }

  static async create(settings: SecretKeyStore, passphrase = ''): Promise<SecretBox> {
    const kek = passphrase ? createHash('sha256').update(passphrase, 'utf8').digest() : null;
    const fresh = randomBytes(32).toString('base64');
    // Several processes may start at once: the first insert wins and everyone uses it.
    const stored = (await settings.findSetting(SETTING)) ?? (await settings.saveSettingIfAbsent(SETTING, kek ? sealWith(kek, fresh) : fresh));
    if (stored.startsWith(PREFIX)) {
      if (!kek) throw new SecretKeyError('the stored data key is encrypted: set security.secret_key (BERTH_SECURITY_SECRET_KEY) to the passphrase it was stored with');
      try {
        return new SecretBox(Buffer.from(openWith(kek, stored), 'base64'), true);
      } catch {
        throw new SecretKeyError('security.secret_key does not decrypt the stored data key: it is not the passphrase the deployment was set up with');
      }
    }
    if (kek) await settings.replaceSetting(SETTING, stored, sealWith(kek, stored));
    return new SecretBox(Buffer.from(stored, 'base64'), !!kek);
  }

  /** `v1:` + base64(iv ‖ tag ‖ ciphertext); a fresh IV per value. */
  seal(plain: string): string {
    return sealWith(this.key, plain);
  }

  /** Throws when the value was not sealed with this key or was altered (GCM authentication). */
  open(sealed: string): string {
    return openWith(this.key, sealed);
  }
}
