import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The console is built into dist/apps/web (hashed assets; the gateway serves them with a strict
 * CSP, so nothing here may emit inline scripts or styles). `npx vite --config apps/web/vite.config.mts`
 * serves it with hot reload and proxies the API to a gateway on LATCHKEY_API_URL (default :8080).
 */
export default defineConfig({
  root: here('.'),
  plugins: [react()],
  resolve: { alias: { '@latchkey/contracts': here('../../libs/contracts/src/index.ts') } },
  build: {
    outDir: here('../../dist/apps/web'),
    emptyOutDir: true,
    target: 'es2022',
    // Every asset is a file of its own: an inlined data: font or image would be fine for the CSP,
    // but one rule (everything from 'self') is easier to audit.
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(['/api', '/health'].map((path) => [path, { target: process.env.LATCHKEY_API_URL ?? 'http://127.0.0.1:8080', changeOrigin: false }])),
  },
});
