// The rule pages that SARIF's helpUri points at (docs/rules/<id>.md) are the rules' own help, kept in step: regenerate
// them with `node -e "require('./dist/server.js').writeHelpPages('docs/rules')"` when a rule's text changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';

const require = createRequire(import.meta.url);
const srv = require(join(ROOT, 'dist/server.js'));

test('docs/rules holds one page per rule, identical to the help the server writes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-docs-'));
  try {
    srv.writeHelpPages(dir);
    const want = readdirSync(dir).sort();
    assert.deepEqual(readdirSync(join(ROOT, 'docs/rules')).sort(), want);
    for (const f of want) assert.equal(readFileSync(join(ROOT, 'docs/rules', f), 'utf8'), readFileSync(join(dir, f), 'utf8'), `docs/rules/${f} is out of date`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
