// Real image tarballs for the scanner tests, built here on first use and cached under .tools/scan-images keyed by
// a hash of their recipe (a machine builds each once; concurrent builders write a temporary file and rename it).
// Needs mmdebstrap (scripts/ci-deps.sh) and npm.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(ROOT, '.tools', 'scan-images');

export const DEBIAN_RECIPE = ['mmdebstrap', '--quiet', '--variant=standard', '--include=ca-certificates,curl,python3-minimal,python3-six,python3-yaml', 'bookworm'];
export const NPM_RECIPE = { name: 'berth-scan-fixture', version: '1.0.0', private: true, dependencies: { express: '4.21.2', 'left-pad': '1.3.0', '@types/node': '22.10.2' } };

const hash = (v: unknown) => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 16);

export function cached(name: string, recipe: unknown, build: (out: string) => void): string {
  mkdirSync(CACHE, { recursive: true });
  const file = join(CACHE, `${name}-${hash(recipe)}.tar`);
  if (!existsSync(file)) {
    const tmp = `${file.slice(0, -4)}.tmp-${process.pid}.tar`; // mmdebstrap picks its output format by extension
    build(tmp);
    renameSync(tmp, file);
  }
  return file;
}

export function debianRootfs(): string {
  return cached('debian', DEBIAN_RECIPE, (out) => {
    const r = spawnSync(DEBIAN_RECIPE[0], [...DEBIAN_RECIPE.slice(1), out, 'http://deb.debian.org/debian'], { stdio: ['ignore', 'inherit', 'inherit'] });
    assert.equal(r.status, 0, 'mmdebstrap failed (is it installed? scripts/ci-deps.sh)');
  });
}

export function npmLayer(): string {
  return cached('npm-app', NPM_RECIPE, (out) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-npm-'));
    try {
      mkdirSync(join(dir, 'app'));
      writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify(NPM_RECIPE));
      execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: join(dir, 'app'), stdio: ['ignore', 'inherit', 'inherit'] });
      execFileSync('tar', ['-C', dir, '--format=posix', '-cf', out, 'app']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
