// Builds the portal into portal/dist (served by Berth at /). `npm run build:portal`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
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
