// The adapter conformance suite against real peers: a second Berth process (harbor adapter, bearer token flow
// through Berth's /service/token), Debian's docker-registry and CNCF Distribution v3.1.2 behind htpasswd basic auth
// (docker-registry and oci adapters).
import { OutboundGuard } from '../../src/drivers/http/outbound-guard.ts';
import { adapterConformance } from '../../src/drivers/registry/adapter.conformance.ts';
import { defaultAdapters } from '../../src/drivers/registry/index.ts';
import { startBerth } from '../helpers/berth.ts';
import { startDistribution, startDockerRegistry } from './peers.ts';

const guard = new OutboundGuard({ allowlist: ['127.0.0.1/32'] });
const adapters = defaultAdapters();

adapterConformance('harbor → a second Berth', async () => {
  const b = await startBerth();
  const adapter = adapters.create('harbor', { url: b.url, credential: { type: 'basic', accessKey: 'admin', accessSecret: b.adminPassword } }, { guard });
  return { adapter, namespace: 'confproj', lists: true, cleanup: () => b.stop() };
});

for (const type of ['docker-registry', 'oci']) {
  adapterConformance(`${type} → docker-registry`, async () => {
    const r = await startDockerRegistry();
    const adapter = adapters.create(type, { url: r.url }, { guard });
    return { adapter, namespace: 'lib', lists: type === 'docker-registry', cleanup: () => r.stop() };
  });
}

for (const type of ['docker-registry', 'oci']) {
  adapterConformance(`${type} → Distribution v3 (basic auth)`, async () => {
    const basic = { username: 'repl', password: 'Distribution-Secret-1' };
    const r = await startDistribution({ basic });
    const adapter = adapters.create(type, { url: r.url, credential: { type: 'basic', accessKey: basic.username, accessSecret: basic.password } }, { guard });
    return { adapter, namespace: 'lib', lists: type === 'docker-registry', cleanup: () => r.stop() };
  });
}
