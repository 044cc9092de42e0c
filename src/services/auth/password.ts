// Password hashing with Node's built-in argon2id (no native addon), stored as a PHC string.
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

// OWASP's argon2id baseline: m=19 MiB, t=2, p=1.
const PARAMS = { memory: 19456, passes: 2, parallelism: 1, tagLength: 32 };

function derive(password: string, nonce: Buffer, p: typeof PARAMS): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    argon2('argon2id', { message: Buffer.from(password, 'utf8'), nonce, ...p }, (err, key) => (err ? reject(err) : resolve(Buffer.from(key)))),
  );
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return `$argon2id$v=19$m=${PARAMS.memory},t=${PARAMS.passes},p=${PARAMS.parallelism}$${b64(salt)}$${b64(key)}`;
}

// A well-formed hash of no one's password, at the current parameters: checking a password against it costs what a
// real check costs, so an unknown username (or a user without a local password) answers no faster than a known one.
const NOBODY = `$argon2id$v=19$m=${PARAMS.memory},t=${PARAMS.passes},p=${PARAMS.parallelism}$${b64(Buffer.alloc(16, 7))}$${b64(Buffer.alloc(32))}`;

/** Spends a password check's time and says no: for logins whose username does not exist. */
export async function verifyNobody(password: string): Promise<false> {
  await verifyPassword(password, NOBODY);
  return false;
}

export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(phc);
  if (!m) return verifyNobody(password); // a malformed or empty stored hash costs the same time, then fails
  const expected = Buffer.from(m[5], 'base64');
  let key: Buffer;
  try {
    key = await derive(password, Buffer.from(m[4], 'base64'), {
      memory: Number(m[1]),
      passes: Number(m[2]),
      parallelism: Number(m[3]),
      tagLength: expected.length,
    });
  } catch {
    return false; // parameters argon2 refuses (m=1, t=0, a short salt or key): a malformed hash
  }
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random password for the first admin: 20 chars with upper, lower and digits guaranteed. */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return 'Aa1' + s;
}
