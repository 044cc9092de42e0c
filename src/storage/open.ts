// The storage factory (like db/open.ts): picks the blob-store driver for the configured `storage.type`. Drivers
// register a factory under their type name; a new backend is one more entry here plus its config variant.
import type { StorageConfig } from '../config/config.ts';
import type { BlobStore } from './blob-store.ts';
import { FsBlobStore } from './fs-store.ts';
import { S3BlobStore } from './s3-store.ts';

type Factory<T extends StorageConfig['type']> = (config: Extract<StorageConfig, { type: T }>) => BlobStore;

const DRIVERS: { [T in StorageConfig['type']]: Factory<T> } = {
  filesystem: (c) => new FsBlobStore(c.filesystemRoot),
  s3: (c) => new S3BlobStore(c),
};

/** Opens the configured blob store and probes it once, so a bad root, bucket or credential fails at start. */
export async function openBlobStore(config: StorageConfig): Promise<BlobStore> {
  const factory = DRIVERS[config.type] as Factory<typeof config.type> | undefined;
  if (!factory) throw new Error(`storage.type: no driver for ${JSON.stringify(config.type)}`);
  const store = factory(config as never);
  await store.check();
  return store;
}
