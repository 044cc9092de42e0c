// /systeminfo/getcert with http.ca_cert_file configured: the file's bytes come back as an attachment named ca.crt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useApi } from './fixture.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nQmVydGggdGVzdCBDQQ==\n-----END CERTIFICATE-----\n';
const file = join(mkdtempSync(join(tmpdir(), 'berth-ca-')), 'ca.crt');
writeFileSync(file, PEM);
const f = useApi({ env: { BERTH_HTTP_CA_CERT_FILE: file } });

test('/systeminfo/getcert serves the configured CA file as ca.crt', async () => {
  const r = await fetch(`${f.berth.url}/api/v2.0/systeminfo/getcert`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition') ?? '', /filename=ca\.crt/);
  assert.equal(await r.text(), PEM);
});
