// Renders the simulation webview as one HTML document (pure function: the client supplies nonce and CSP source and wires messages).
import type { SimulationResult, Step, VariantResult } from '../../../simulator/src/types';

export interface RenderOptions {
  nonce: string;
  cspSource: string;
  title: string;
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that is safe inside a <script> element: no "</script>", no "<!--", no line separators. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

type VariantName = 'flagged' | 'fixed';

function stepLabel(s: Step): string {
  const where = s.source ? `, at ${s.source.file} line ${s.source.line}` : '';
  const inv = s.violation ? `, invariant ${s.violation.invariant} broken` : '';
  return `Step ${s.n}, ${s.actor}: ${s.event}${where}${inv}`;
}

function renderStep(v: VariantName, s: Step, lane: number): string {
  // One cell, starting in the actor's lane and running to the right edge: lanes stay visible as indentation and
  // the text keeps a readable width in a narrow panel.
  const src = s.source ? `<span class="src">${escapeHtml(`${s.source.file}:${s.source.line}:${s.source.column}`)}</span>` : '';
  const viol = s.violation
    ? `<span class="viol"><strong>${escapeHtml(s.violation.invariant)} broken:</strong> ${escapeHtml(s.violation.explanation)}</span>`
    : '';
  const cell = `<span class="cell lane from-${lane}"><span class="what"><span class="n">${s.n}</span> <span class="actor">${escapeHtml(s.actor)}</span> <span class="ev">${escapeHtml(s.event)}</span></span>${src}<span class="chg">${escapeHtml(s.change)}</span>${viol}</span>`;
  const data = s.source
    ? ` data-file="${escapeHtml(s.source.file)}" data-line="${s.source.line}" data-column="${s.source.column}"`
    : '';
  const cls = `step${s.violation ? ' broken' : ''}${s.source ? ' has-src' : ''}`;
  return `<li id="${v}-step-${s.n}" class="${cls}" role="option" tabindex="-1" aria-selected="false" data-n="${s.n}"${data} aria-label="${escapeHtml(stepLabel(s))}">${cell}</li>`;
}

function renderVariant(v: VariantName, r: VariantResult, actors: string[], labels: string[], hidden: boolean): string {
  const lanes = actors.length;
  const head = labels.map((l) => `<span class="cell head">${escapeHtml(l)}</span>`).join('');
  const steps = r.steps.map((s) => renderStep(v, s, Math.max(0, actors.indexOf(s.actor)))).join('\n');
  const verdict = r.hazard ? 'hazard' : 'safe';
  return `<section id="variant-${v}" class="variant ${verdict}"${hidden ? ' hidden' : ''} aria-label="${v === 'flagged' ? 'Flagged path' : 'Fixed path'}">
<p class="verdict ${verdict}">${escapeHtml(r.summary)}</p>
<div class="lanes cols-${lanes}" aria-hidden="true">${head}</div>
<ol class="timeline" role="listbox" tabindex="0" aria-label="${v === 'flagged' ? 'Steps of the flagged path' : 'Steps of the fixed path'}; arrow keys move, Enter reveals the source line">
${steps}
</ol>
</section>`;
}

function styles(lanes: number): string {
  return `
body { color: var(--vscode-editor-foreground); background: var(--vscode-editor-background); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); margin: 0; padding: 0 1em 1em; }
h1 { font-size: 1.2em; }
button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: 1px solid var(--vscode-button-border, transparent); padding: 0.3em 0.8em; margin-right: 0.3em; cursor: pointer; }
button:hover { background: var(--vscode-button-hoverBackground); }
button[aria-pressed="true"] { outline: 2px solid var(--vscode-focusBorder); }
:focus { outline: 2px solid var(--vscode-focusBorder); outline-offset: 1px; }
.controls { position: sticky; top: 0; padding: 0.5em 0; background: var(--vscode-editor-background); z-index: 1; }
.verdict.hazard { color: var(--vscode-errorForeground); font-weight: bold; }
.verdict.safe { color: var(--vscode-testing-iconPassed, var(--vscode-editor-foreground)); font-weight: bold; }
.layout { display: flex; gap: 1em; align-items: flex-start; }
.variant { flex: 3; min-width: 0; }
#state { flex: 2; position: sticky; top: 3.5em; border-left: 1px solid var(--vscode-panel-border); padding-left: 1em; }
.lanes, .step { display: grid; gap: 0.3em; grid-template-columns: repeat(${lanes}, minmax(0, 1fr)); }
.lanes .head { min-width: 0; overflow-wrap: anywhere; font-weight: bold; border-bottom: 1px solid var(--vscode-panel-border); padding: 0.2em; }
.timeline { list-style: none; margin: 0; padding: 0; }
.step { padding: 0.15em 0; border-bottom: 1px dotted var(--vscode-panel-border); }
.step.future { display: none; }
.step.selected { background: var(--vscode-list-activeSelectionBackground); color: var(--vscode-list-activeSelectionForeground); }
.step.has-src .lane { cursor: pointer; }
.cell.lane { min-width: 0; overflow-wrap: anywhere; display: flex; flex-direction: column; border-left: 3px solid var(--vscode-textLink-foreground); padding-left: 0.4em; }
.step.broken .cell.lane { border-left-color: var(--vscode-errorForeground); }
.n, .actor { font-weight: bold; }
${Array.from({ length: lanes }, (_, k) => `.from-${k} { grid-column: ${k + 1} / -1; }`).join('\n')}
@media (max-width: 800px) {
  .layout { flex-direction: column; }
  #state { position: static; border-left: none; border-top: 1px solid var(--vscode-panel-border); padding-left: 0; width: 100%; }
}
.ev { font-family: var(--vscode-editor-font-family); }
.src { color: var(--vscode-textLink-foreground); font-size: 0.9em; }
.chg { opacity: 0.9; }
.viol { color: var(--vscode-errorForeground); background: var(--vscode-inputValidation-errorBackground); border: 1px solid var(--vscode-inputValidation-errorBorder); padding: 0.2em; margin-top: 0.2em; }
table { border-collapse: collapse; margin-bottom: 0.6em; }
th, td { border: 1px solid var(--vscode-panel-border); padding: 0.1em 0.4em; text-align: left; }
.bad { color: var(--vscode-errorForeground); font-weight: bold; }
`;
}

const SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('sim-data').textContent);
  var api = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : null;
  var variant = 'flagged';
  var selected = 0;
  var timer = null;
  function result() { return variant === 'flagged' ? data : data.fixed; }
  function items() { return Array.prototype.slice.call(document.querySelectorAll('#variant-' + variant + ' .step')); }
  function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }
  function table(caption, head, rows) {
    var t = el('table'); t.appendChild(el('caption', caption));
    var tr = el('tr'); head.forEach(function (h) { tr.appendChild(el('th', h)); }); t.appendChild(tr);
    rows.forEach(function (r) { var row = el('tr'); r.forEach(function (c) { var td = el('td', c.text, c.bad ? 'bad' : ''); row.appendChild(td); }); t.appendChild(row); });
    return t;
  }
  function pte(p) { return p ? p.page + (p.writable ? ' (writable)' : ' (read-only)') : 'none'; }
  function showState(step) {
    var box = document.getElementById('state-body');
    box.textContent = '';
    if (!step) { box.appendChild(el('p', 'No step selected.')); return; }
    var st = step.state;
    box.appendChild(el('p', 'After step ' + step.n + ' (' + step.actor + ': ' + step.event + ')'));
    if (step.violation) box.appendChild(el('p', step.violation.invariant + ' broken: ' + step.violation.explanation, 'bad'));
    box.appendChild(table('Primary and shadow PTEs', ['table', 'maps', 'open ranges', 'seq'],
      [[{ text: 'primary (CPU)' }, { text: pte(st.pte) }, { text: st.openRanges.length }, { text: '' }]].concat(st.shadow.map(function (s) {
        var stale = s.pte && (!st.pte || st.pte.page !== s.pte.page);
        return [{ text: 'shadow ' + s.subscriber }, { text: pte(s.pte), bad: stale }, { text: s.openRanges }, { text: s.seq }];
      }))));
    box.appendChild(table('Pages', ['page', 'state', 'refcount', 'mapcount', 'content'], st.pages.map(function (p) {
      return [{ text: p.id }, { text: p.state, bad: p.state !== 'live' }, { text: p.refcount }, { text: p.mapcount }, { text: p.content }];
    })));
    box.appendChild(table('Locks', ['lock', 'holder'], st.locks.map(function (l) { return [{ text: l.lock }, { text: l.holder || 'free' }]; })));
    box.appendChild(table('Threads', ['thread', 'preempt', 'holds', 'waits for'], st.threads.map(function (t) {
      return [{ text: t.id }, { text: t.preempt, bad: t.preempt > 0 && !!t.blockedOn }, { text: t.held.join(', ') }, { text: t.blockedOn || '' }];
    })));
  }
  function select(i, opts) {
    var list = items();
    if (list.length === 0) { showState(null); return; }
    selected = Math.max(0, Math.min(list.length - 1, i));
    list.forEach(function (li, k) {
      li.setAttribute('aria-selected', k === selected ? 'true' : 'false');
      li.classList.toggle('selected', k === selected);
      li.tabIndex = k === selected ? 0 : -1;
      if (opts && opts.progressive) li.classList.toggle('future', k > selected);
    });
    if (!opts || opts.focus !== false) list[selected].focus();
    showState(result().steps[selected]);
    document.getElementById('position').textContent = 'Step ' + (selected + 1) + ' of ' + list.length;
  }
  function reveal(li) {
    if (!li || !li.dataset.file || !api) return;
    api.postMessage({ type: 'reveal', file: li.dataset.file, line: Number(li.dataset.line), column: Number(li.dataset.column) });
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; } document.getElementById('play').textContent = 'Play'; document.getElementById('play').setAttribute('aria-pressed', 'false'); }
  function showAll() { stop(); items().forEach(function (li) { li.classList.remove('future'); }); }
  function firstBroken() { var v = result().violations; return v.length ? v[0].step - 1 : 0; }
  function setVariant(v) {
    stop();
    variant = v;
    ['flagged', 'fixed'].forEach(function (x) {
      document.getElementById('variant-' + x).hidden = x !== v;
      document.getElementById('show-' + x).setAttribute('aria-pressed', x === v ? 'true' : 'false');
    });
    showAll();
    select(firstBroken());
  }
  document.getElementById('show-flagged').addEventListener('click', function () { setVariant('flagged'); });
  document.getElementById('show-fixed').addEventListener('click', function () { setVariant('fixed'); });
  document.getElementById('prev').addEventListener('click', function () { stop(); select(selected - 1, { focus: false }); });
  document.getElementById('next').addEventListener('click', function () { stop(); select(selected + 1, { focus: false }); });
  document.getElementById('all').addEventListener('click', function () { showAll(); select(firstBroken(), { focus: false }); });
  document.getElementById('play').addEventListener('click', function () {
    if (timer) { stop(); return; }
    var btn = document.getElementById('play');
    btn.textContent = 'Pause'; btn.setAttribute('aria-pressed', 'true');
    select(0, { progressive: true, focus: false });
    timer = setInterval(function () {
      if (selected >= items().length - 1) { stop(); return; }
      select(selected + 1, { progressive: true, focus: false });
    }, 800);
  });
  ['flagged', 'fixed'].forEach(function (v) {
    var list = document.querySelector('#variant-' + v + ' .timeline');
    list.addEventListener('click', function (ev) {
      var li = ev.target.closest('.step');
      if (!li) return;
      stop(); select(items().indexOf(li)); reveal(li);
    });
    list.addEventListener('keydown', function (ev) {
      var k = ev.key;
      if (k === 'ArrowDown' || k === 'ArrowRight') { stop(); select(selected + 1); ev.preventDefault(); }
      else if (k === 'ArrowUp' || k === 'ArrowLeft') { stop(); select(selected - 1); ev.preventDefault(); }
      else if (k === 'Home') { stop(); select(0); ev.preventDefault(); }
      else if (k === 'End') { stop(); select(items().length - 1); ev.preventDefault(); }
      else if (k === 'Enter' || k === ' ') { reveal(items()[selected]); ev.preventDefault(); }
    });
  });
  setVariant('flagged');
})();
`;

export function renderSimulationHtml(result: SimulationResult, opts: RenderOptions): string {
  const nonce = escapeHtml(opts.nonce);
  const actors = result.scenario.actors.map((a) => a.id);
  const labels = result.scenario.actors.map((a) => a.label);
  const csp = `default-src 'none'; style-src ${escapeHtml(opts.cspSource)} 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
  const subs = result.scenario.subscribers.map((s) => `${s.id}: ${s.label}${s.kvmMode ? ` (change_pte: ${s.kvmMode})` : ''}`).join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)}</title>
<style nonce="${nonce}">${styles(actors.length)}</style>
</head>
<body>
<header>
<h1>${escapeHtml(opts.title)}</h1>
<p>Rule ${escapeHtml(result.scenario.rule)}, kernel ${escapeHtml(result.scenario.kernelVersion)}, ${escapeHtml(result.scenario.patternLabel ?? 'PTE change')} pattern. Subscribers: ${escapeHtml(subs)}.</p>
${result.laterSemantics ? `<p class="verdict ${result.laterSemantics.hazard ? 'hazard' : 'safe'}">With v${escapeHtml(result.laterSemantics.kernelVersion)} semantics (${escapeHtml(result.laterSemantics.note)}): ${escapeHtml(result.laterSemantics.summary)}</p>` : ''}
<p>Fix applied to the path: ${escapeHtml(result.fixed.fixDescription)}.</p>
<div class="controls" role="toolbar" aria-label="Simulation controls">
<button id="show-flagged" type="button" aria-pressed="true">Flagged path</button>
<button id="show-fixed" type="button" aria-pressed="false">Fixed path</button>
<button id="prev" type="button" aria-label="Previous step">Previous</button>
<button id="play" type="button" aria-pressed="false" aria-label="Play step by step">Play</button>
<button id="next" type="button" aria-label="Next step">Next</button>
<button id="all" type="button" aria-label="Show all steps at once">Show all</button>
<span id="position" role="status" aria-live="polite"></span>
</div>
</header>
<div class="layout">
${renderVariant('flagged', result, actors, labels, false)}
${renderVariant('fixed', result.fixed, actors, labels, true)}
<aside id="state" aria-label="State at the selected step"><h2>State</h2><div id="state-body" aria-live="polite"></div></aside>
</div>
<script type="application/json" id="sim-data" nonce="${nonce}">${jsonForScript(result)}</script>
<script nonce="${nonce}">${SCRIPT}</script>
</body>
</html>
`;
}
