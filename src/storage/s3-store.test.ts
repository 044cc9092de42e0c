import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { S3BlobStore } from './s3-store.ts';
import { runBlobStoreConformance } from './blob-store.conformance.ts';
import { sharedS3 } from '../../test/helpers/s3.ts';
import type { S3StorageConfig } from '../config/config.ts';

async function config(over: Partial<S3StorageConfig> = {}): Promise<S3StorageConfig> {
  const s3 = await sharedS3();
  return {
    type: 's3',
    bucket: await s3.createBucket('berth-store'),
    region: s3.region,
    endpoint: s3.endpoint,
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    forcePathStyle: true,
    rootDirectory: '',
    redirect: false,
    multipartChunkSize: 5 * 1024 * 1024,
    ...over,
  };
}

runBlobStoreConformance('S3BlobStore', async () => {
  const store = new S3BlobStore(await config());
  return { store, cleanup: async () => store.destroy() };
});

runBlobStoreConformance('S3BlobStore under a root_directory', async () => {
  const store = new S3BlobStore(await config({ rootDirectory: 'registry/berth' }));
  return { store, cleanup: async () => store.destroy() };
});
