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
require(cli).main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`notifier-audit: internal error: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 2; },
);
