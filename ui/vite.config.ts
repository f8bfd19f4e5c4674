/**
 * Vite build of the UI. Run from the repository root: `vite build --config ui/vite.config.ts`
 * writes ui/dist with relative asset paths (base './'), so the same files load from the headless
 * host's HTTP server and from the desktop shell's file:// renderer.
 */
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  // the UI imports a few pure core modules (criteria, catalogue) from outside ui/
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } }
})
