// The real `notation` CLI (scripts/ci-deps.sh builds it into .tools/bin) with a private configuration directory,
// plus an openssl-made certificate chain (root → intermediate → leaf) registered as a notation signing key, for the
// Notary Project verifier tests (src/services/signature) and the interop tests (test/signatures).
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeDir, run as runTool, runOk, toolPath, type RunResult } from './clients.ts';

export interface Notation {
  dir: string;
  env: Record<string, string>;
  /** Runs notation; throws with its output unless it exits 0 (or allowFail). */
  run(args: string[], opts?: { allowFail?: boolean }): Promise<RunResult>;
  /** `notation cert generate-test` (RSA, self-signed, added to the trust store `ca:<name>`); returns the certificate PEM. */
  generateTestCert(name: string, opts?: { isDefault?: boolean; bits?: number }): Promise<string>;
  /** Writes a trust policy (trustpolicy.json) trusting these `ca` stores for every registry, at level strict. */
  writeTrustPolicy(stores: string[]): void;
  stop(): void;
}

export async function createNotation(creds?: { username: string; password: string }): Promise<Notation> {
  const dir = makeTempDir('notation');
  const bin = toolPath('notation');
  // NOTATION_CONFIG is notation's own override; XDG_* keep its cache and any default path inside the temp dir too.
  const env: Record<string, string> = {
    HOME: dir,
    NOTATION_CONFIG: join(dir, 'notation'),
    XDG_CONFIG_HOME: dir,
    XDG_CACHE_HOME: join(dir, 'cache'),
    ...(creds ? { NOTATION_USERNAME: creds.username, NOTATION_PASSWORD: creds.password } : {}),
  };
  const run = async (args: string[], opts: { allowFail?: boolean } = {}) => {
    const r = await runTool(bin, args, { env, timeoutMs: 60_000 });
    if (r.code !== 0 && !opts.allowFail) throw new Error(`notation ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  return {
    dir,
    env,
    run,
    async generateTestCert(name, opts = {}) {
      await run(['cert', 'generate-test', ...(opts.isDefault ? ['--default'] : []), ...(opts.bits ? ['--bits', String(opts.bits)] : []), name]);
      return readFile(join(env.NOTATION_CONFIG, 'localkeys', `${name}.crt`), 'utf8');
    },
    writeTrustPolicy(stores) {
      const policy = {
        version: '1.0',
        trustPolicies: [{ name: 'berth-tests', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: stores.map((s) => `ca:${s}`), trustedIdentities: ['*'] }],
      };
      writeFileSync(join(env.NOTATION_CONFIG, 'trustpolicy.json'), JSON.stringify(policy, null, 2));
    },
    stop: () => removeDir(dir),
  };
}

export interface CertChain {
  /** PEM of each certificate. */
  root: string;
  intermediate: string;
  leaf: string;
  /** The leaf's private key (PEM), for tests that sign envelopes by hand. */
  leafKey: string;
  /** Where the keys and certificates are. */
  dir: string;
}

/** Issues another EC P-384 leaf from the chain's intermediate with these openssl extension lines (e.g. a broken one). */
export async function issueLeaf(chain: CertChain, name: string, extensions: string[]): Promise<{ cert: string; key: string }> {
  const f = (x: string) => join(chain.dir, `${name}.${x}`);
  writeFileSync(f('cnf'), ['[leaf]', ...extensions, ''].join('\n'));
  await runOk('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', f('key')]);
  await runOk('openssl', ['req', '-new', '-key', f('key'), '-out', f('csr'), '-subj', `/O=Berth Tests/CN=${name}`]);
  await runOk('openssl', ['x509', '-req', '-in', f('csr'), '-CA', join(chain.dir, 'int.crt'), '-CAkey', join(chain.dir, 'int.key'), '-set_serial', String(Date.now()), '-days', '1', '-out', f('crt'), '-extfile', f('cnf'), '-extensions', 'leaf']);
  return { cert: await readFile(f('crt'), 'utf8'), key: await readFile(f('key'), 'utf8') };
}

/**
 * Makes a three-certificate code-signing chain with openssl (EC P-384 leaf by default: ES384 signatures) and adds it
 * to notation's signing keys under `name` (`notation key` has no command for local files; signingkeys.json is what
 * `cert generate-test` writes too). The root is not put in any trust store.
 */
export async function addChainSigningKey(n: Notation, name: string, opts: { curve?: 'P-256' | 'P-384' | 'P-521' } = {}): Promise<CertChain> {
  const d = join(n.dir, `chain-${name}`);
  const ossl = (args: string[]) => runOk('openssl', args, { cwd: n.dir });
  await runOk('mkdir', ['-p', d]);
  const ext = join(d, 'ext.cnf');
  writeFileSync(
    ext,
    [
      '[ca]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      '[int]',
      'basicConstraints = critical, CA:TRUE, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      '[leaf]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical, digitalSignature',
      'extendedKeyUsage = codeSigning',
      '',
    ].join('\n'),
  );
  const f = (x: string) => join(d, x);
  await ossl(['req', '-x509', '-newkey', 'rsa:3072', '-nodes', '-keyout', f('root.key'), '-out', f('root.crt'), '-days', '3', '-subj', `/O=Berth Tests/CN=${name} root`, '-config', ext, '-extensions', 'ca']);
  await ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('int.key'), '-out', f('int.csr'), '-subj', `/O=Berth Tests/CN=${name} intermediate`]);
  await ossl(['x509', '-req', '-in', f('int.csr'), '-CA', f('root.crt'), '-CAkey', f('root.key'), '-set_serial', '2', '-days', '2', '-sha384', '-out', f('int.crt'), '-extfile', ext, '-extensions', 'int']);
  await ossl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${opts.curve ?? 'P-384'}`, '-out', f('leaf.key')]);
  await ossl(['req', '-new', '-key', f('leaf.key'), '-out', f('leaf.csr'), '-subj', `/O=Berth Tests/CN=${name} signer`]);
  await ossl(['x509', '-req', '-in', f('leaf.csr'), '-CA', f('int.crt'), '-CAkey', f('int.key'), '-set_serial', '3', '-days', '1', '-sha256', '-out', f('leaf.crt'), '-extfile', ext, '-extensions', 'leaf']);
  const [root, intermediate, leaf, leafKey] = await Promise.all(['root.crt', 'int.crt', 'leaf.crt', 'leaf.key'].map((x) => readFile(f(x), 'utf8')));
  writeFileSync(f('chain.crt'), leaf + intermediate + root);
  const keysFile = join(n.env.NOTATION_CONFIG, 'signingkeys.json');
  let keys: { default?: string; keys: { name: string; keyPath: string; certPath: string }[] } = { keys: [] };
  try {
    keys = JSON.parse(await readFile(keysFile, 'utf8'));
  } catch {
    /* none yet */
  }
  keys.keys.push({ name, keyPath: f('leaf.key'), certPath: f('chain.crt') });
  await runOk('mkdir', ['-p', n.env.NOTATION_CONFIG]);
  writeFileSync(keysFile, JSON.stringify(keys, null, 2));
  return { root, intermediate, leaf, leafKey, dir: d };
}
