// package.json contributes.configuration must stay equal to the server's DEFAULT_SETTINGS; commands are in one category.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, engine } from '../helpers.mjs';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('contributes.configuration mirrors DEFAULT_SETTINGS (keys and defaults)', () => {
  const props = pkg.contributes.configuration.properties;
  const fromPkg = Object.fromEntries(Object.entries(props).map(([k, v]) => [k.replace(/^notifierAudit\./, ''), v.default]));
  // kernelVersion is a plain string in the manifest (editable in the settings UI): empty means "from the Makefile".
  assert.equal(props['notifierAudit.kernelVersion'].type, 'string');
  assert.equal(fromPkg.kernelVersion, '');
  assert.deepEqual({ ...fromPkg, kernelVersion: null }, engine.DEFAULT_SETTINGS);
  assert.equal(engine.normalizeSettings(fromPkg).settings.kernelVersion, null);
  for (const k of Object.keys(props)) assert.match(k, /^notifierAudit\./);
  // The defaults pass the server's own validation with no problem.
  assert.deepEqual(engine.normalizeSettings(fromPkg).problems, []);
  assert.deepEqual(props['notifierAudit.enabledRules'].items.enum, [...engine.RULE_IDS]);
});

test('commands share one category and the manifest points at the bundle', () => {
  const ids = pkg.contributes.commands.map((c) => c.command).sort();
  assert.deepEqual(ids, ['notifierAudit.restartServer', 'notifierAudit.scanWorkspace', 'notifierAudit.showFindings', 'notifierAudit.showOutput', 'notifierAudit.simulate', 'notifierAudit.simulateAtCursor']);
  assert.ok(pkg.contributes.commands.every((c) => c.category === 'MMU Notifier Audit'));
  assert.equal(pkg.main, './dist/extension.js');
  assert.ok(pkg.activationEvents.includes('onLanguage:c'));
});
