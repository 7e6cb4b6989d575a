// The simulation webview HTML: strict CSP with a nonce, one lane per actor, controls, and every piece of source text escaped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const sim = require(join(root, 'dist/simulator.js'));

/** Bundles client/src/webview/render.ts in memory (it imports nothing from vscode) and loads it. */
function loadRenderer() {
  const esbuild = require('esbuild');
  const out = esbuild.buildSync({ entryPoints: [join(root, 'client/src/webview/render.ts')], bundle: true, platform: 'node', format: 'cjs', write: false, logLevel: 'silent' });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', out.outputFiles[0].text)(mod, mod.exports, require);
  return mod.exports;
}
const web = loadRenderer();
const HOSTILE = '<img src=x onerror=alert(1)>';
const OPTS = { nonce: 'N0nce123', cspSource: 'vscode-webview://abc', title: 'Simulation <b>x</b>' };

function hostileResult() {
  const w = sim.workedTrace(1);
  const path = w.path.map((e) => ({ ...e, file: `mm/${HOSTILE}.c`, detail: `${HOSTILE}</script><script>alert(2)</script>` }));
  return sim.simulateFinding({ rule: w.rule, path, function: HOSTILE }, w.opts);
}

test('escapeHtml neutralises a hostile string', () => {
  assert.equal(web.escapeHtml(HOSTILE), '&lt;img src=x onerror=alert(1)&gt;');
  assert.equal(web.escapeHtml(`"'&`), '&quot;&#39;&amp;');
  assert.equal(web.escapeHtml(undefined), '');
});

test('jsonForScript cannot close the script element and round-trips', () => {
  const v = { s: '</script><!-- \u2028 & >' };
  const j = web.jsonForScript(v);
  assert.ok(!j.includes('<') && !j.includes('>') && !j.includes('\u2028'));
  assert.deepEqual(JSON.parse(j), v);
});

test('hostile source text (file names, details, function) never reaches the HTML unescaped', () => {
  const r = hostileResult();
  assert.ok(JSON.stringify(r).includes(HOSTILE), 'the hostile text is really in the result');
  const html = web.renderSimulationHtml(r, OPTS);
  assert.ok(!html.includes(HOSTILE), 'raw hostile tag present');
  assert.ok(!html.includes('<script>alert'), 'injected script element present');
  assert.ok(!html.includes('<b>x</b>'));
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(html.includes('\\u003cimg src=x onerror=alert(1)\\u003e'), 'JSON embeds < as \\u003c');
  // Only our two script elements, both with the nonce; no inline handlers or style attributes.
  const scripts = html.match(/<script\b[^>]*>/g);
  assert.equal(scripts.length, 2);
  for (const s of scripts) assert.ok(s.includes(`nonce="${OPTS.nonce}"`), s);
  // Attribute names only (quoted values removed): no on* handler, no style attribute anywhere.
  const tags = (html.match(/<[a-z][^>]*>/gi) ?? []).map((t) => t.replace(/"[^"]*"/g, '""'));
  assert.ok(tags.length > 20);
  for (const t of tags) {
    assert.ok(!/\son[a-z]+\s*=/i.test(t), `inline event handler: ${t}`);
    assert.ok(!/\sstyle\s*=/i.test(t), `inline style attribute: ${t}`);
  }
  // The embedded data parses back to the result.
  const data = html.match(/<script type="application\/json" id="sim-data"[^>]*>([\s\S]*?)<\/script>/)[1];
  assert.deepEqual(JSON.parse(data), r);
});

test('strict Content-Security-Policy with the nonce and the webview source', () => {
  const html = web.renderSimulationHtml(sim.simulateFinding(sim.workedTrace(2), sim.workedTrace(2).opts), OPTS);
  const csp = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]*)">/)[1];
  assert.equal(csp, "default-src 'none'; style-src vscode-webview://abc 'nonce-N0nce123'; script-src 'nonce-N0nce123';");
  assert.ok(!html.includes('unsafe-inline') && !html.includes('unsafe-eval'));
  assert.ok(html.startsWith('<!DOCTYPE html>'));
});

test('lanes, steps, controls, violation and theme variables are all there; the script compiles', () => {
  const w = sim.workedTrace(1);
  const r = sim.simulateFinding(w, w.opts);
  const html = web.renderSimulationHtml(r, OPTS);
  for (const a of r.scenario.actors) assert.ok(html.includes(`<span class="cell head">${web.escapeHtml(a.label)}</span>`), a.id);
  assert.equal((html.match(/<li id="flagged-step-/g) ?? []).length, r.steps.length);
  assert.equal((html.match(/<li id="fixed-step-/g) ?? []).length, r.fixed.steps.length);
  for (const id of ['show-flagged', 'show-fixed', 'prev', 'play', 'next', 'all']) assert.match(html, new RegExp(`<button id="${id}" type="button"`));
  assert.match(html, /<li id="flagged-step-6" class="step broken has-src"[^>]*data-file="mm\/ksm.c" data-line="1140" data-column="2"[^>]*aria-label="Step 6, T0: unlock ptl, at mm\/ksm.c line 1140, invariant I3 broken"/);
  assert.match(html, /<strong>I5 broken:<\/strong>/);
  assert.match(html, /var\(--vscode-editor-foreground\)/);
  assert.match(html, /role="listbox" tabindex="0"/);
  assert.match(html, /postMessage\(\{ type: 'reveal', file: li\.dataset\.file, line: Number\(li\.dataset\.line\), column: Number\(li\.dataset\.column\) \}\)/);
  const script = html.match(/<script nonce="[^"]*">([\s\S]*?)<\/script>/)[1];
  assert.doesNotThrow(() => new Function(script));
});
