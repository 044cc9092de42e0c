// Encryption at rest for secrets Berth must send on (a webhook target's auth_header, a replication endpoint's
// credential): AES-256-GCM with a key from config (security.secret_key, once it exists) or generated on first start and kept in
// `settings` like the token signing key, so every process of a deployment decrypts what another stored.
// Values never reach logs: callers hold ciphertext until the moment of sending.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const PREFIX = 'v1:';

/** What the API shows for a stored secret (Harbor's convertRegistry); sent back unchanged it means "keep it". */
export const SECRET_MASK = '*****';
const SETTING = 'security.secret_key';

export interface SecretKeyStore {
  findSetting(key: string): Promise<string | null>;
  saveSettingIfAbsent(key: string, value: string): Promise<string>;
}

export class SecretBox {
  private readonly key: Buffer;
  private constructor(key: Buffer) {
    this.key = key;
  }

  /** From an operator-given passphrase (any length; SHA-256 makes the 32-byte key) or the deployment's stored key. */
  static async create(settings: SecretKeyStore, configured = ''): Promise<SecretBox> {
    if (configured) return new SecretBox(createHash('sha256').update(configured, 'utf8').digest());
    let stored = await settings.findSetting(SETTING);
    // Several processes may start at once: the first insert wins and everyone uses it.
    stored ??= await settings.saveSettingIfAbsent(SETTING, randomBytes(32).toString('base64'));
    return new SecretBox(Buffer.from(stored, 'base64'));
  }

  /** `v1:` + base64(iv ‖ tag ‖ ciphertext); a fresh IV per value. */
  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /** Throws when the value was not sealed with this key or was altered (GCM authentication). */
  open(sealed: string): string {
    if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed value');
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    if (raw.length < 28) throw new Error('sealed value is truncated');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
}
