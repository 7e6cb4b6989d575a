// Bundles the engine, CLI, language server, simulator and VS Code client with esbuild, and copies the grammar wasm.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
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

/**
 * web-tree-sitter 0.25.10 reads and writes every i32 of its transfer buffer through emscripten's generic
 * getValue/setValue, which go through a type switch and a little-endian DataView. Copying a syntax tree out makes
 * tens of these calls per node (a fifth of a cold one-file run). On little-endian hosts (all of Node's 64-bit
 * targets) an Int32Array access is the same operation: the bundle gets that fast path. The build fails if the
 * patched lines are not found exactly once (a new runtime version must be looked at again).
 */
const fastTransferBuffer = {
  name: 'web-tree-sitter-fast-i32',
  setup(b) {
    b.onLoad({ filter: /web-tree-sitter[\\/]tree-sitter\.cjs$/ }, (args) => {
      let src = readFileSync(args.path, 'utf8');
      const patches = [
        ['function setValue(ptr, value, type = "i8") {', 'if (type === "i32" && LITTLE_ENDIAN_HOST) { HEAP32[ptr >> 2] = value; return; }'],
        ['function getValue(ptr, type = "i8") {', 'if (type === "i32" && LITTLE_ENDIAN_HOST) return HEAP32[ptr >> 2];'],
        // The tree cursor crosses into wasm as four i32s on every step: straight through the module's HEAP32 view
        // (re-read at each call: it is replaced when the wasm memory grows).
        ['function marshalTreeCursor(cursor, address = TRANSFER_BUFFER) {',
          'if (LITTLE_ENDIAN_HOST) { const h = C.HEAP32, i = address >> 2; h[i] = cursor[0]; h[i + 1] = cursor[1]; h[i + 2] = cursor[2]; h[i + 3] = cursor[3]; return; }'],
        ['function unmarshalTreeCursor(cursor) {',
          'if (LITTLE_ENDIAN_HOST) { const h = C.HEAP32, i = TRANSFER_BUFFER >> 2; cursor[0] = h[i]; cursor[1] = h[i + 1]; cursor[2] = h[i + 2]; cursor[3] = h[i + 3]; return; }'],
      ];
      for (const [head, fast] of patches) {
        if (src.split(head).length !== 2) throw new Error(`web-tree-sitter patch: "${head}" not found exactly once in ${args.path}`);
        src = src.replace(head, `${head}\n${fast}`);
      }
      src = `var LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;\n${src}`;
      return { contents: src, loader: 'js' };
    });
  },
};
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
        plugins: [fastTransferBuffer],
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
