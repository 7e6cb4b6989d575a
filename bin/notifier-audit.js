#!/usr/bin/env node
require('v8').setFlagsFromString('--liftoff-only');
// Entry point of the notifier-audit CLI: loads the bundled CLI (built by `npm run build`).
'use strict';
const { join } = require('node:path');
const { existsSync } = require('node:fs');
const cli = join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('notifier-audit: dist/cli.js is missing; run `npm run build` first\n');
  process.exit(2);
}
const argv = process.argv.slice(2);
require(cli).main(argv).then(
  (code) => {
    process.exitCode = code;
    // An audit is done once its report is written: exit then, rather than wait for V8's background work (optimising
    // compiles, GC) to drain, which costs ~15 ms. The language server keeps running (its promise never settles).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  },
  (err) => { process.stderr.write(`notifier-audit: internal error: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 2; },
);
