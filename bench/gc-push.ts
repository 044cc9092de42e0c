// Push throughput with and without GC running: a real Berth, 4 pushers × N images (config + 256 KiB layer +
// manifest, half of them deleted again), once alone and once while GC (delete_untagged, in this process on the same
// deployment; grace 60 s for links not yet referenced, none for deleted images) runs in a loop. Usage: node bench/gc-push.ts [imagesPerPusher=30]; BERTH_TEST_DATABASE=postgres too.
import { randomBytes } from 'node:crypto';
import { startBerth } from '../test/helpers/berth.ts';
import { pushImage, req } from '../test/durability/lib.ts';
import { openServices } from '../test/gc/lib.ts';

const N = Number(process.argv[2] ?? 30);
const b = await startBerth({ env: { BERTH_REGISTRY_GC_GRACE: '60', BERTH_LOG_LEVEL: 'error' } });
const s = await openServices(b);
try {
  const round = async (label: string) => {
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 4 }, async (_, p) => {
        for (let i = 0; i < N; i++) {
          const img = await pushImage(b, `library/push-${p}`, `${label}-${i}`, randomBytes(256 * 1024));
          if (i % 2) {
            const res = await req(b, 'DELETE', `/v2/library/push-${p}/manifests/${img.digest}`);
            await res.body?.cancel();
          }
        }
      }),
    );
    return (4 * N) / ((Date.now() - t0) / 1000);
  };
  const alone = await round('alone');
  let done = false;
  let runs = 0;
  let freed = 0;
  const loop = (async () => {
    while (!done) {
      const r = await s.gc.run({ deleteUntagged: true, workers: 2, graceMs: 60_000 });
      runs++;
      freed += r.blobsDeleted;
    }
  })();
  let withGc: number;
  try {
    withGc = await round('gc');
  } finally {
    done = true;
    await loop;
  }
  console.log(
    JSON.stringify({ database: b.database, images: 4 * N, imagesPerSecondAlone: +alone.toFixed(1), imagesPerSecondWithGc: +withGc.toFixed(1), gcRuns: runs, blobsFreed: freed }),
  );
} finally {
  await s.db.close();
  await b.stop();
}
