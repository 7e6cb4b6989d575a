// Bundles the engine, CLI, language server, simulator and VS Code client with esbuild, and copies the grammar wasm.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });

const entries = [
  ['server/src/index.ts', 'engine.js'],
  ['server/src/cli.ts', 'cli.js'],
  ['server/src/cli/worker.ts', 'worker.js'],
  ['server/src/cli/simulate.ts', 'simulate.js'],
  ['server/src/server.ts', 'server.js'],
  ['simulator/src/index.ts', 'simulator.js'],
  ['client/src/extension.ts', 'extension.js'],
];
const production = process.argv.includes('--production');
const results = await Promise.allSettled(
  entries
    .filter(([src]) => existsSync(join(root, src)))
    .map(([src, out]) =>
      build({
        entryPoints: [join(root, src)],
        outfile: join(dist, out),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        sourcemap: !production,
        minify: production,
        external: ['vscode'],
        // The CommonJS build of the runtime: the ESM one needs import.meta.url, which a CJS bundle lacks.
        alias: { 'web-tree-sitter': join(root, 'node_modules/web-tree-sitter/tree-sitter.cjs') },
        logLevel: 'warning',
      }),
    ),
);
// The grammar (tree-sitter-c 0.24.1) and the runtime's own wasm travel next to the bundles.
copyFileSync(join(root, 'node_modules/tree-sitter-c/tree-sitter-c.wasm'), join(dist, 'tree-sitter-c.wasm'));
copyFileSync(join(root, 'node_modules/web-tree-sitter/tree-sitter.wasm'), join(dist, 'tree-sitter.wasm'));
const failed = results.filter((r) => r.status === 'rejected');
if (failed.length) {
  console.error(`build: ${failed.length} bundle(s) failed`);
  process.exitCode = 1;
}
