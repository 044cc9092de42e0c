// Builds the portal into portal/dist (served by Berth at /). `npm run build:portal`.
// Every asset over 1 KiB also gets .gz and .br siblings, which Berth serves by Accept-Encoding.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

function precompress(): Plugin {
  return {
    name: 'berth-precompress',
    apply: 'build',
    enforce: 'post',
    // After the files are written: other plugins still rewrite chunk code during generateBundle.
    writeBundle(options, bundle) {
      const dir = options.dir!;
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css|svg|json)$/.test(name)) continue;
        const buf = readFileSync(join(dir, name));
        if (buf.length < 1024) continue;
        writeFileSync(join(dir, `${name}.gz`), gzipSync(buf, { level: 9 }));
        writeFileSync(join(dir, `${name}.br`), brotliCompressSync(buf, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
      }
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react(), precompress()],
  build: {
    outDir: 'dist',
    // Keep the previous build's hashed assets: a browser (or a test) still on the old index.html keeps working while
    // a rebuild runs (scripts/test.sh rebuilds while other runs may be using the portal).
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 900,
  },
  server: {
    // `npx vite --config portal/vite.config.ts` proxies the API to a Berth on :5000 (BERTH_DEV_URL to change).
    proxy: Object.fromEntries(
      ['/api', '/c', '/v2', '/service'].map((p) => [p, { target: process.env.BERTH_DEV_URL ?? 'http://127.0.0.1:5000', changeOrigin: false }]),
    ),
  },
});
