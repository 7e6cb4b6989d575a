// The subscriber rules in the language server, driven by a real LSP client: the diagnostic on the sleeping call of a
// driver's invalidate_range_start, the hover (the contract, its version and commit), the blockable quick-fix (the
// callback's own mutex becomes lock-if-blockable-else-trylock), and the diagnostic gone after the edit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT } from '../helpers.mjs';
import { startClient, proto, editsFor, applyTextEdits } from './client.mjs';

const FILE = join(ROOT, 'test/fixtures/subscriber/nonblocking/v5.10-interval-mutex-lock.c');

test('a driver notifier: diagnostic, hover, trylock quick-fix, clean after the edit', async () => {
  const c = await startClient({ settings: { kernelVersion: '5.10' } });
  try {
    const { uri } = c.open(FILE);
    const pub = await c.waitFor(() => (c.diags.get(uri)?.diagnostics.length ? c.diags.get(uri) : undefined), 15000, 'diagnostics');
    const d = pub.diagnostics.find((x) => x.code === 'nonblocking-invalidate-sleeps');
    assert.ok(d, JSON.stringify(pub.diagnostics));
    assert.equal(d.severity, 1);
    assert.equal(d.range.start.line, 25);
    assert.match(d.message, /mutex_lock\(\) may sleep in invalidate callback/);
    assert.match(d.relatedInformation.map((r) => r.message).join('\n'), /is the invalidate callback of/);

    const hover = await c.request(proto.HoverRequest.type, { textDocument: { uri }, position: { line: 25, character: 3 } });
    assert.match(hover.contents.value, /nonblocking-invalidate-sleeps/);
    assert.match(hover.contents.value, /v4\.19/);
    assert.match(hover.contents.value, /OOM reaper/);

    const actions = await c.request(proto.CodeActionRequest.type, { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    assert.match(actions[0].title, /mutex_trylock\(\).*return false/);
    const fixed = applyTextEdits(c.text(uri), editsFor(actions[0], uri));
    assert.match(fixed, /if \(mmu_notifier_range_blockable\(range\)\)\n\t\tmutex_lock\(&u->umem_mutex\);\n\telse if \(!mutex_trylock\(&u->umem_mutex\)\)\n\t\treturn false;/);
    const v = c.change(uri, fixed);
    const after = await c.waitDiagnostics(uri, v);
    assert.deepEqual(after.diagnostics.filter((x) => x.code === 'nonblocking-invalidate-sleeps'), []);
  } finally {
    await c.stop();
  }
});
