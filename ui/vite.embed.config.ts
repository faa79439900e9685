import { defineConfig } from 'vite';

// embed.js: the script a host page includes to mount the hub in an iframe. One classic-script
// IIFE that defines the global `Switchyard`, with no hash in its name (served at /embed.js).
// Relative to this folder (Vite's root).
const outDir = '../crates/server/ui/dist';

export default defineConfig({
  publicDir: false,
  build: {
    outDir,
    emptyOutDir: false,
    target: 'es2017',
    sourcemap: false,
    reportCompressedSize: false,
    lib: {
      entry: 'src/embed.ts',
      name: 'Switchyard',
      formats: ['iife'],
      fileName: () => 'embed.js',
    },
  },
});
