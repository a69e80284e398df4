// Builds the editor into ../static/editor/ as editor.js and editor.css (fixed names: the page template links
// them, and the built files are committed and shipped in the Python package). JSX goes through Vite's own
// transformer (no React plugin: no dev-server fast refresh is needed for a build-only setup).
import { defineConfig } from 'vite';

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: '../static/editor',
    emptyOutDir: true,
    sourcemap: false,
    cssCodeSplit: false,
    rollupOptions: {
      input: 'src/main.jsx',
      output: {
        format: 'iife',
        entryFileNames: 'editor.js',
        assetFileNames: (info) => (info.names?.[0] || info.name || '').endsWith('.css') ? 'editor.css' : '[name][extname]',
      },
    },
  },
});
