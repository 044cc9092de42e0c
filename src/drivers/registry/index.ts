// The adapters Berth ships, registered by name. Only adapters that work and are tested are listed here (the
// conformance suite runs each against a real peer); `GET /replication/adapters` shows exactly this table.
import { AdapterRegistry } from './adapter.ts';
import { harborAdapterFactory } from './harbor-adapter.ts';
import { dockerRegistryAdapterFactory, ociAdapterFactory } from './oci-adapter.ts';

export function defaultAdapters(): AdapterRegistry {
  return new AdapterRegistry().register(harborAdapterFactory).register(dockerRegistryAdapterFactory).register(ociAdapterFactory);
}
