// Runs the official OCI distribution-spec conformance suite (built from the Go module proxy by
// scripts/build-conformance.sh) against a real Berth process, with every API and data switch the
// suite offers enabled (scripts/run-conformance.sh). See test/conformance/README.md.
// Needs Go >= 1.24 and a reachable Go module proxy (or a cached build in .tools/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startBerth } from '../helpers/berth.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(cmd: string, args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.once('error', rej);
    child.once('close', (code, signal) => res({ code, signal, output }));
  });
}

const tail = (s: string, n = 150) => s.split('\n').slice(-n).join('\n');

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  disabled: number;
  passed: number;
}

// Counts from the <testsuite> element of the suite's junit.xml.
function junitCounts(xml: string): Counts {
  const m = /<testsuite\s[^>]*>/.exec(xml);
  assert.ok(m, 'junit.xml has no <testsuite> element');
  const attr = (name: string) => {
    const a = new RegExp(`\\s${name}="(\\d+)"`).exec(m[0]);
    return a ? Number(a[1]) : 0;
  };
  const c = { tests: attr('tests'), failures: attr('failures'), errors: attr('errors'), skipped: attr('skipped'), disabled: attr('disabled') };
  return { ...c, passed: c.tests - c.failures - c.errors - c.skipped - c.disabled };
}

test('OCI distribution-spec conformance suite passes against Berth', { timeout: 15 * 60_000 }, async (t) => {
  if (process.env.BERTH_SKIP_CONFORMANCE === '1') {
    t.skip('BERTH_SKIP_CONFORMANCE=1');
    return;
  }
  const build = await run('bash', [join(ROOT, 'scripts', 'build-conformance.sh')], {});
  assert.equal(build.code, 0, `scripts/build-conformance.sh failed:\n${tail(build.output)}`);

  const database = process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
  const resultsDir = join(ROOT, 'test-results', 'conformance', database);
  mkdirSync(resultsDir, { recursive: true });
  const b = await startBerth({ database });
  let res: RunResult;
  try {
    res = await run(
      'bash',
      [join(ROOT, 'scripts', 'run-conformance.sh'), b.url, 'library/conformance', 'library/conformance-mount'],
      { OCI_USERNAME: b.adminUser, OCI_PASSWORD: b.adminPassword, OCI_RESULTS_DIR: resultsDir },
    );
  } finally {
    await b.stop();
  }

  const summary = /^OCI Conformance Result:[\s\S]*$/m.exec(res.output)?.[0] ?? tail(res.output);
  t.diagnostic(`conformance (${database}), results in ${resultsDir}:\n${summary}`);

  let xml: string;
  try {
    xml = readFileSync(join(resultsDir, 'junit.xml'), 'utf8');
  } catch {
    assert.fail(`the suite wrote no junit.xml (exit ${res.code}):\n${tail(res.output)}`);
  }
  const counts = junitCounts(xml);
  // The run script lists the leaf tests that did not pass; the full tree is in console.txt/report.html.
  const from = res.output.indexOf('Leaf tests not passed');
  const notPassed = from < 0 ? '' : res.output.slice(from, res.output.indexOf('\n\n', from) >>> 0);
  const why = `${JSON.stringify(counts)}; see ${resultsDir}/report.html\n${notPassed}`;
  assert.equal(counts.failures, 0, `${counts.failures} conformance failure(s): ${why}`);
  assert.equal(counts.errors, 0, `${counts.errors} conformance error(s): ${why}`);
  assert.ok(counts.passed > 0, `no conformance test passed: ${why}`);
  assert.equal(res.code, 0, `scripts/run-conformance.sh exited ${res.code ?? res.signal}:\n${tail(res.output, 40)}`);
});
