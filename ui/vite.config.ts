/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The hub page. Built into the Rust server's crate, which embeds and serves it at /hub/.
// Relative to this folder (Vite's root).
const outDir = '../crates/server/ui/dist';

export default defineConfig({
  base: '/hub/',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    // Modern browsers only: no modulepreload polyfill.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8950',
      '/oauth2': 'http://127.0.0.1:8950',
    },
  },
  preview: {
    proxy: {
      '/api': 'http://127.0.0.1:8950',
      '/oauth2': 'http://127.0.0.1:8950',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
