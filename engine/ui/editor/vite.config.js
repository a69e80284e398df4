// Builds the editor into ../static/editor/ as editor.js and editor.css (fixed names: the page template links
// them, and the built files are committed and shipped in the Python package), with editor.licenses.txt: the
// license of each npm package bundled in. JSX goes through Vite's own transformer (no React plugin: no dev
// server with fast refresh is needed for a build-only setup).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vite';

/** The folder of the npm package a bundled module comes from (nearest package.json with a name). */
function packageFolder(file) {
  for (let dir = dirname(file); dir.includes('node_modules'); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name) return dir;
  }
  return null;
}

function licenseText(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f));
  return file ? readFileSync(join(dir, file), 'utf8').trim() : '(no license file in the package)';
}

/** Emits editor.licenses.txt: name, version, license and license text of every package in the bundle. */
function bundledLicenses() {
  return {
    name: 'bundled-licenses',
    generateBundle(_options, bundle) {
      const folders = new Set();
      for (const chunk of Object.values(bundle)) {
        for (const id of Object.keys(chunk.modules || {})) {
          const dir = id.includes('node_modules') ? packageFolder(id.replace(/^\0/, '').split('?')[0]) : null;
          if (dir) folders.add(dir);
        }
      }
      const entries = [...folders].map((dir) => {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        return `${manifest.name} ${manifest.version} (${manifest.license})\n\n${licenseText(dir)}\n`;
      }).sort();
      this.emitFile({ type: 'asset', fileName: 'editor.licenses.txt',
        source: `The npm packages bundled in editor.js and editor.css, with their licenses.\n\n${entries.join('\n---\n\n')}` });
    },
  };
}

export default defineConfig({
  oxc: { jsx: { runtime: 'automatic' } },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  plugins: [bundledLicenses()],
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
