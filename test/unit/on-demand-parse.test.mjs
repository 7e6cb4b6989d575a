// Batch mode parses function definitions on demand (roots first, then callees whose text can matter, then callers
// of escaping functions). These tests check it against a full parse on multi-file projects, the same-file preference
// of call resolution, the determinism of audits with worker threads, functionItems against a plain reference scan,
// and the positions of the syntax nodes copied out of tree-sitter (full and span parses, CRLF, non-ASCII, emoji).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename, dirname } from 'node:path';
import { ROOT, engine, getParser, listFiles, expectations, prng } from '../helpers.mjs';

const parser = await getParser();

/** Analyses in-memory texts ({ path: text }) in one Project. */
function analyzeTexts(files, partialParse, version = '5.10') {
  const p = new engine.Project(parser, {
    settings: engine.DEFAULT_SETTINGS,
    kernelVersion: version ? engine.parseVersion(version, 'test') : null,
    partialParse,
  });
  for (const [f, t] of Object.entries(files)) p.setFile(f, t);
  const r = p.analyze();
  p.dispose();
  return r;
}

/** What a run reports (functionsAnalysed and filesParsed are statistics: a partial parse legitimately differs). */
const outcome = (r) => ({ findings: r.findings, suppressed: r.suppressed, incomplete: r.incomplete, errors: r.errors });
const reported = (r) => r.findings.map((f) => `${f.rule}@${basename(f.file)}:${f.line}`).sort();
const reportedSuppressed = (r) => r.suppressed.map((f) => `${f.rule}@${basename(f.file)}:${f.line}`).sort();
/** The `expect:` comments of all files, as rule@file:line. */
function expectedOf(files) {
  const out = { expected: [], suppressed: [] };
  for (const [f, t] of Object.entries(files)) {
    const e = expectations(t);
    for (const x of e.expected) out.expected.push(x.replace('@', `@${basename(f)}:`));
    for (const x of e.suppressed) out.suppressed.push(x.replace('@', `@${basename(f)}:`));
  }
  out.expected.sort();
  out.suppressed.sort();
  return out;
}

function bothModes(files, version) {
  const partial = analyzeTexts(files, true, version);
  const full = analyzeTexts(files, false, version);
  return { partial, full };
}

// Multi-file scenarios. Expectation comments naming notifier-under-ptl contain "ptl" (a lock word to the engine's
// text filters), so they are only put in functions that mention a lock anyway.
const SCENARIOS = {
  'a callee in another file returns with the PTL held': {
    '/proj/mm/a.c': `// the caller
int zap_one(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr)
{
	struct mmu_notifier_range range;
	spinlock_t *ptl;
	pte_t *pte;

	pte = get_pte_locked(mm, pmd, addr, &ptl);
	if (!pte)
		return 0;
	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range); /* expect: notifier-under-ptl */
	ptep_get_and_clear(mm, addr, pte);
	pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_end(&range);
	return 1;
}
`,
    '/proj/mm/b.c': `static int unrelated(int x)
{
	return x + 1;
}

pte_t *get_pte_locked(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, spinlock_t **ptlp)
{
	pte_t *pte;

	if (pmd_none(*pmd))
		return NULL;
	pte = pte_offset_map_lock(mm, pmd, addr, ptlp);
	if (!pte_present(*pte)) {
		pte_unmap_unlock(pte, *ptlp);
		return NULL;
	}
	return pte;
}

int other_unrelated(int y)
{
	return unrelated(y) * 2;
}
`,
  },
  'a caller in c.c of a helper in b.c that calls set_pte_at_notify without a range': {
    '/proj/mm/b.c': `void insert_page(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
		 unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	pte_t *ptep;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte_none(*ptep)) {
		pte_unmap_unlock(ptep, ptl);
		return;
	}
	set_pte_at_notify(mm, addr, ptep, mk_pte(page, vma->vm_page_prot));
	pte_unmap_unlock(ptep, ptl);
}
`,
    '/proj/mm/c.c': `static int count_pages(struct page **pages, int n)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += !!pages[i];
	return c;
}

void migrate_pages_range(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
			 unsigned long start, unsigned long end, struct page **pages)
{
	struct mmu_notifier_range range;
	unsigned long addr;
	int i = 0;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, start, end);
	mmu_notifier_invalidate_range_start(&range);
	for (addr = start; addr < end; addr += PAGE_SIZE)
		insert_page(mm, vma, pmd, addr, pages[i++]);
	mmu_notifier_invalidate_range_end(&range);
}

void fill_one_page(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
		   unsigned long addr, struct page *page)
{
	insert_page(mm, vma, pmd, addr, page); /* expect: unbracketed-change-pte */
}
`,
  },
  'a helper in b.c opens the range, the caller in a.c returns early without closing it': {
    '/proj/mm/a.c': `int zap_range(struct vm_area_struct *vma, unsigned long start, unsigned long end, int busy)
{
	struct mmu_notifier_range range;

	begin_invalidate(&range, vma, start, end); /* expect: range-imbalance */
	if (busy)
		return -EBUSY;
	unmap_single_vma(vma, start, end);
	mmu_notifier_invalidate_range_end(&range);
	return 0;
}
`,
    '/proj/mm/b.c': `void begin_invalidate(struct mmu_notifier_range *range, struct vm_area_struct *vma,
		      unsigned long start, unsigned long end)
{
	mmu_notifier_range_init(range, MMU_NOTIFY_CLEAR, 0, vma, vma->vm_mm, start, end);
	mmu_notifier_invalidate_range_start(range);
}
`,
  },
  'a sleeping callee in b.c called with the PTL held (callers found in a later round), and an inline suppression in c.c': {
    '/proj/mm/a.c': `void clear_one(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	flush_secondary(mm, addr); /* expect: notifier-under-ptl */
	pte_unmap_unlock(pte, ptl);
}

/* a file whose text names mmu_notifier_invalidate_range_start (here, outside any function) is opened */
`,
    '/proj/mm/b.c': `void flush_secondary(struct mm_struct *mm, unsigned long addr)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, NULL, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	mmu_notifier_invalidate_range_end(&range);
}
`,
    '/proj/mm/c.c': `void clear_two(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	/* notifier-audit: ignore notifier-under-ptl -- only non-blockable subscribers here */
	flush_secondary(mm, addr); /* expect-suppressed: notifier-under-ptl */
	pte_unmap_unlock(pte, ptl);
}

/* mmu_notifier_invalidate_range_end */
`,
  },
  'a lock helper in a file opened only for it calls a sleeping function of a third file': {
    '/proj/mm/r.c': `int zap_one(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr)
{
	struct mmu_notifier_range range;
	spinlock_t *ptl;
	pte_t *pte;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	pte = get_locked(mm, pmd, addr, &ptl);
	if (pte)
		pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_end(&range);
	return 1;
}
`,
    '/proj/mm/l.c': `static int boring(int x)
{
	return x;
}

pte_t *get_locked(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, spinlock_t **ptlp)
{
	pte_t *pte;

	pte = pte_offset_map_lock(mm, pmd, addr, ptlp);
	helper(mm); /* expect: notifier-under-ptl */
	return pte;
}
`,
    '/proj/mm/s.c': `void helper(struct mm_struct *mm)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, NULL, mm, 0, PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	mmu_notifier_invalidate_range_end(&range);
}
`,
  },
  'callers of an escaping function found over two rounds (helper of a helper)': {
    '/proj/mm/b.c': `void insert_page(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
		 unsigned long addr, struct page *page)
{
	spinlock_t *ptl;
	pte_t *ptep;

	ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);
	set_pte_at_notify(mm, addr, ptep, mk_pte(page, vma->vm_page_prot));
	pte_unmap_unlock(ptep, ptl);
}
`,
    '/proj/mm/c.c': `static void wrap_insert(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd,
			unsigned long addr, struct page *page)
{
	insert_page(mm, vma, pmd, addr, page); /* not here: callers of wrap_insert bracket it (one does) */
}

void direct_bracketed(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, struct page *page)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	insert_page(mm, vma, pmd, addr, page);
	mmu_notifier_invalidate_range_end(&range);
}

void outer_bracketed(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, struct page *page)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, vma, mm, addr, addr + PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	wrap_insert(mm, vma, pmd, addr, page);
	mmu_notifier_invalidate_range_end(&range);
}

void outer(struct mm_struct *mm, struct vm_area_struct *vma, pmd_t *pmd, unsigned long addr, struct page *page)
{
	wrap_insert(mm, vma, pmd, addr, page); /* expect: unbracketed-change-pte */
}

/* this file also mentions mmu_notifier_invalidate_range_start, outside any function */
`,
  },
};

/** CRLF line endings, non-ASCII and astral characters in comments and strings, before and inside functions. */
function unicodeVariant(files) {
  const out = {};
  for (const [f, t] of Object.entries(files)) {
    let u = `/* caf\u00e9 \u65e5\u672c \u{1F600}\u{1F680} */\n// \u{1F389} \u00fc\u00df\n${t}`;
    // A comment and a string with emoji after the first opening brace of every function body.
    u = u.replace(/\)\n\{\n/g, ')\n{\n\tconst char *msg = "\u{1F600} \u00e9\u{1F4A5}"; /* \u2603\u{1F9EA} */\n');
    out[f.replace(/\.c$/, '-u.c')] = u.replace(/\n/g, '\r\n');
  }
  return out;
}

for (const [name, files] of Object.entries(SCENARIOS)) {
  test(`partial and full parse agree: ${name}`, () => {
    const want = expectedOf(files);
    assert.ok(want.expected.length + want.suppressed.length > 0, 'the scenario expects something');
    const { partial, full } = bothModes(files);
    assert.deepEqual(outcome(partial), outcome(full));
    assert.deepEqual(reported(partial), want.expected);
    assert.deepEqual(reportedSuppressed(partial), want.suppressed);
    assert.deepEqual(partial.errors, []);
  });
}

test('partial and full parse agree on CRLF texts with non-ASCII and emoji before and inside functions', () => {
  for (const files of Object.values(SCENARIOS)) {
    const u = unicodeVariant(files);
    const want = expectedOf(u);
    const { partial, full } = bothModes(u);
    assert.deepEqual(outcome(partial), outcome(full));
    assert.deepEqual(reported(partial), want.expected, Object.keys(u).join(' '));
    assert.deepEqual(reportedSuppressed(partial), want.suppressed);
    // Columns count UTF-16 code units from the start of the line, after the emoji-bearing line inserted above.
    for (const f of partial.findings) {
      const line = u[f.file].split('\n')[f.line - 1];
      assert.ok(f.column >= 1 && f.column <= line.length, `${f.file}:${f.line}:${f.column}`);
      assert.match(line.slice(f.column - 1), /^[A-Za-z_]/, `the column points at the call: ${JSON.stringify(line)}`);
    }
  }
});

test('partial and full parse agree with all rule fixtures and examples in one project (colliding names)', () => {
  const files = {};
  for (const f of [...listFiles(join(ROOT, 'test/fixtures/rules')), ...listFiles(join(ROOT, 'examples'))]) files[f] = readFileSync(f, 'utf8');
  for (const v of [null, '5.10']) {
    const { partial, full } = bothModes(files, v);
    assert.ok(partial.findings.length >= 20, String(partial.findings.length));
    assert.deepEqual(outcome(partial), outcome(full), `kernel version ${v}`);
  }
});

test('engine.audit (the CLI path: scan, neighbours, on-demand parse) reports what a full parse of the same files reports', async () => {
  const base = mkdtempSync(join(tmpdir(), 'na-ondemand-'));
  try {
    let i = 0;
    for (const files of Object.values(SCENARIOS)) {
      const dir = join(base, `s${i++}`);
      const onDisk = {};
      for (const [f, t] of Object.entries(files)) {
        const p = join(dir, basename(f));
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, t);
        onDisk[p] = t;
      }
      const a = await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 1, parser });
      const full = analyzeTexts(onDisk, false, null);
      assert.deepEqual({ findings: a.findings, suppressed: a.suppressed, incomplete: a.incomplete, errors: a.errors }, outcome(full), dir);
      assert.deepEqual(reported(a), expectedOf(onDisk).expected);
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Same-file preference: a call resolves to the caller's own file's definition, even one whose text cannot matter.

const ROOT_CALLER = `void root_fn(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, struct mmu_notifier_range *range)
{
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	helper(mm);
	pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_start(range);
	mmu_notifier_invalidate_range_end(range);
}
`;
const CALL_LINE = 7;
const boringHelper = (kw) => `${kw}void helper(struct mm_struct *mm)
{
	barrier();
}

`;
const sleepingHelper = (kw) => `${kw}void helper(struct mm_struct *mm)
{
	struct mmu_notifier_range range;

	mmu_notifier_range_init(&range, MMU_NOTIFY_CLEAR, 0, NULL, mm, 0, PAGE_SIZE);
	mmu_notifier_invalidate_range_start(&range);
	mmu_notifier_invalidate_range_end(&range);
}
`;

test("same-file preference: a.c's own uninteresting helper() wins over b.c's sleeping non-static helper()", () => {
  const ownSleeperLine = CALL_LINE + sleepingHelper('').split('\n').length;
  const cases = [
    // [label, a.c, b.c, expected findings]
    ['own static helper', boringHelper('static ') + ROOT_CALLER, sleepingHelper(''), []],
    ['own non-static helper', boringHelper('') + ROOT_CALLER, sleepingHelper(''), []],
    ['own helper defined after the caller', ROOT_CALLER + '\n' + boringHelper('static '), sleepingHelper(''), []],
    ['no helper of its own (control: b.c is reached)', ROOT_CALLER, sleepingHelper(''), [`notifier-under-ptl@a.c:${CALL_LINE}`]],
    ['own helper sleeps, b.c has a harmless one (control: the own definition is analysed)', sleepingHelper('static ') + '\n' + ROOT_CALLER,
      boringHelper(''), [`notifier-under-ptl@a.c:${ownSleeperLine}`]],
  ];
  for (const [label, a, b, want] of cases) {
    // b.c sorts after a.c, 0b.c before it: the order files are indexed in must not matter.
    for (const bName of ['/proj/b.c', '/proj/0b.c']) {
      const files = { '/proj/a.c': a, [bName]: b };
      const { partial, full } = bothModes(files);
      assert.deepEqual(reported(partial), want, `${label} (partial, ${bName})`);
      assert.deepEqual(reported(full), want, `${label} (full, ${bName})`);
      assert.deepEqual(outcome(partial), outcome(full), label);
    }
  }
});

test('same-file preference holds in a file opened only because a call needed one of its definitions', () => {
  const files = structuredClone(SCENARIOS['a lock helper in a file opened only for it calls a sleeping function of a third file']);
  const { partial: p0 } = bothModes(files);
  assert.deepEqual(reported(p0), ['notifier-under-ptl@l.c:11'], 'control');
  files['/proj/mm/l.c'] = boringHelper('static ') + files['/proj/mm/l.c'].replace(' /* expect: notifier-under-ptl */', '');
  const { partial, full } = bothModes(files);
  assert.deepEqual(reported(partial), []);
  assert.deepEqual(outcome(partial), outcome(full));
});

test('same-file preference through engine.audit on disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-samefile-'));
  try {
    writeFileSync(join(dir, 'a.c'), boringHelper('static ') + ROOT_CALLER);
    writeFileSync(join(dir, 'b.c'), sleepingHelper(''));
    const r = await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 1, parser });
    assert.deepEqual(reported(r), []);
    writeFileSync(join(dir, 'a.c'), ROOT_CALLER);
    const r2 = await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 1, parser });
    assert.deepEqual(reported(r2), [`notifier-under-ptl@a.c:${CALL_LINE}`], 'control');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Determinism: worker threads deliver files in any order; the findings must not depend on it.

/** A tree of 240 small C files: callers and callees across files of a directory, shared names across directories. */
function generateTree(dir) {
  const rnd = prng(0x5eed);
  const P = 'struct mm_struct *mm, pmd_t *pmd, unsigned long addr';
  const A = 'mm, pmd, addr';
  const bodies = [
    (d, k) => `pte_t *get_locked_${d}_${k}(${P}, spinlock_t **lp)\n{\n\treturn pte_offset_map_lock(mm, pmd, addr, lp);\n}\n`,
    (d, k) => `void sleeper_${d}_${k}(${P})\n{\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n}\n`,
    (d, k) => `void changer_${d}_${k}(${P}, pte_t *ptep, pte_t pte)\n{\n\tset_pte_at_notify(mm, addr, ptep, pte);\n}\n`,
    (d, k) => `void opener_${d}_${k}(${P})\n{\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n}\n`,
    (d, k) => `${k % 2 ? 'static ' : ''}void common_helper(${P})\n{\n\t${k % 3 ? 'barrier();' : 'mmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);'}\n}\n`,
    (d, k) => `int filler_${d}_${k}(int x)\n{\n\treturn x * ${k};\n}\n`,
  ];
  const callers = [
    (d, j) => `int root_${d}_${j}(${P})\n{\n\tspinlock_t *ptl;\n\tpte_t *pte = get_locked_${d}_${j}(${A}, &ptl);\n\n\tif (!pte)\n\t\treturn 0;\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\tpte_unmap_unlock(pte, ptl);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n\treturn 1;\n}\n`,
    (d, j) => `void lockcall_${d}_${j}(${P})\n{\n\tspinlock_t *ptl;\n\tpte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);\n\n\tsleeper_${d}_${j}(${A});\n\tcommon_helper(${A});\n\tpte_unmap_unlock(pte, ptl);\n}\n`,
    (d, j) => `void change_caller_${d}_${j}(${P}, pte_t *ptep)\n{\n\tchanger_${d}_${j}(${A}, ptep, *ptep);\n}\n\nvoid bracketed_${d}_${j}(${P}, pte_t *ptep)\n{\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\tchanger_${d}_${j}(${A}, ptep, *ptep);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n}\n`,
    (d, j) => `int early_${d}_${j}(${P}, int busy)\n{\n\topener_${d}_${j}(${A});\n\tif (busy)\n\t\treturn -EBUSY;\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n\treturn 0;\n}\n`,
    (d, j) => `void suppressed_${d}_${j}(${P})\n{\n\tspinlock_t *ptl;\n\tpte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);\n\n\t/* notifier-audit: ignore notifier-under-ptl -- generated */\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\tpte_unmap_unlock(pte, ptl);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n}\n`,
  ];
  let n = 0;
  for (let d = 0; d < 10; d++) {
    const sub = join(dir, `d${d}`, d % 2 ? 'sub' : '');
    mkdirSync(sub, { recursive: true });
    for (let k = 0; k < 24; k++) {
      let text = `// generated file ${d}/${k} \u{1F600}\n`;
      const parts = 1 + Math.floor(rnd() * 3);
      for (let q = 0; q < parts; q++) {
        const kind = Math.floor(rnd() * 10);
        const j = Math.floor(rnd() * 6);
        if (kind < 5) text += bodies[kind](d, j) + '\n';
        else if (kind < 9) text += callers[Math.floor(rnd() * callers.length)](d, j) + '\n';
        else text += bodies[5](d, k) + '\n';
      }
      if (k % 5 === 0) text += bodies[4](d, k) + '\n';
      writeFileSync(join(sub, `f${String(k).padStart(2, '0')}.c`), k % 7 === 3 ? text.replace(/\n/g, '\r\n') : text);
      n++;
    }
  }
  // Files that end up in `errors`, and plain files that the pre-filter drops.
  writeFileSync(join(dir, 'd0', 'binary.c'), Buffer.concat([Buffer.from('mmu_notifier_invalidate_range_start'), Buffer.from([0, 1, 2])]));
  writeFileSync(join(dir, 'd1', 'latin1.c'), Buffer.from('/* caf\xe9 */\nvoid l1(struct mm_struct *mm)\n{\n\tmmu_notifier_invalidate_range_start(mm, 0, 1);\n}\n', 'latin1'));
  for (let k = 0; k < 6; k++) writeFileSync(join(dir, 'd2', `plain${k}.h`), `#define PLAIN_${k} ${k}\n`);
  return n + 8;
}

test('audit findings are the same with jobs 1 and jobs 2 on a tree of 240+ generated files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'na-determinism-'));
  try {
    const count = generateTree(dir);
    assert.ok(count >= 200, 'jobs only takes effect from 200 files');
    const pick = (r) => JSON.stringify({ findings: r.findings, suppressed: r.suppressed, incomplete: r.incomplete, errors: r.errors });
    const serial = await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 1, parser });
    assert.equal(serial.filesScanned, count);
    const rules = new Set(serial.findings.map((f) => f.rule));
    assert.deepEqual([...rules].sort(), ['notifier-under-ptl', 'range-imbalance', 'unbracketed-change-pte'], 'every rule fires somewhere');
    assert.ok(serial.findings.length >= 30, String(serial.findings.length));
    assert.ok(serial.suppressed.length >= 1);
    assert.ok(serial.errors.some((e) => /binary file/.test(e.message)) && serial.errors.some((e) => /not valid UTF-8/.test(e.message)));
    for (let k = 0; k < 2; k++) {
      const parallel = await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 2, parser });
      assert.equal(pick(parallel), pick(serial), `jobs 2, run ${k + 1}`);
    }
    // A fresh parser (what the CLI does) changes nothing either.
    assert.equal(pick(await engine.audit([dir], { settings: engine.DEFAULT_SETTINGS, jobs: 2 })), pick(serial));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// functionItems against a plain character loop.

const SPACE = new Set([32, 9, 10, 13, 11, 12]); // C whitespace: space, \t, \n, \r, \v, \f

/**
 * Reference: a '{' at brace depth 0 and parenthesis depth 0 whose previous non-whitespace character is ')' starts a
 * function body, which ends at its matching '}'; a ';' at depth 0 outside parentheses ends an item; items start
 * where the previous top-level item ended. Inside braces only braces count; a stray ')' does not go below 0; an
 * unmatched '{' ends the scan.
 */
function referenceItems(mask) {
  const items = [];
  let paren = 0;
  let brace = 0;
  let start = 0;
  let open = -1;
  let isBody = false;
  for (let i = 0; i < mask.length; i++) {
    const c = mask[i];
    if (brace > 0) {
      if (c === '{') brace++;
      else if (c === '}') {
        brace--;
        if (brace === 0) {
          if (isBody) items.push({ start, end: i + 1, open });
          start = i + 1;
        }
      }
      continue;
    }
    if (c === '(') paren++;
    else if (c === ')') paren = Math.max(0, paren - 1);
    else if (c === ';' && paren === 0) start = i + 1;
    else if (c === '{' && paren === 0) {
      let k = i - 1;
      while (k >= 0 && SPACE.has(mask.charCodeAt(k))) k--;
      isBody = k >= 0 && mask[k] === ')';
      brace = 1;
      open = i;
    }
  }
  return items;
}

const norm = (items) => items.map(({ start, end, open }) => ({ start, end, open }));

test('functionItems equals the reference scan on every fixture', () => {
  let total = 0;
  for (const file of listFiles(join(ROOT, 'test/fixtures'))) {
    const mask = engine.prepass(readFileSync(file, 'utf8')).mask;
    const want = referenceItems(mask);
    assert.deepEqual(norm(engine.functionItems(mask)), want, file);
    total += want.length;
  }
  assert.ok(total >= 50, `fixtures have function definitions (${total})`);
  // Hand-written corner cases.
  for (const t of ['', '{', '}', ')', 'int f(void) {', 'int f(void) { } }', 'void f(void)\n}\n{\n}\nint g(void) { return 0; }\n',
    'struct s { int a; };\nint f(void)\n{\n\t{ { } }\n}\n', 'int x = (1;\nvoid h(void) { }\n', 'int a[] = { 1, 2 };\nint (*fp(void))(int) { return 0; }\n',
    'void f(void) __releases(x)\n{\n}\n', '#if X\nint f(void) {\n#else\nint f(int a) {\n#endif\n\treturn 0;\n}\n']) {
    const mask = engine.prepass(t).mask;
    assert.deepEqual(norm(engine.functionItems(mask)), referenceItems(mask), JSON.stringify(t));
  }
});

test('functionItems equals the reference scan on 600 seeded mutations (braces, parentheses, semicolons)', () => {
  const texts = listFiles(join(ROOT, 'test/fixtures')).map((f) => readFileSync(f, 'utf8'));
  const rnd = prng(0xB7ACE5);
  const mutate = (s) => {
    const edits = 1 + Math.floor(rnd() * 5);
    for (let e = 0; e < edits; e++) {
      const pos = [];
      for (let i = 0; i < s.length; i++) if ('{}();'.includes(s[i])) pos.push(i);
      if (!pos.length) break;
      const at = pos[Math.floor(rnd() * pos.length)];
      const op = rnd();
      if (op < 0.4) s = s.slice(0, at) + s.slice(at + 1); // delete
      else if (op < 0.8) s = s.slice(0, at) + s[at] + s.slice(at); // duplicate
      else s = s.slice(0, at) + '{}();'[Math.floor(rnd() * 5)] + s.slice(at + 1); // replace by another
    }
    return s;
  };
  let withItems = 0;
  let differentFromOriginal = 0;
  for (let v = 0; v < 600; v++) {
    const original = texts[Math.floor(rnd() * texts.length)];
    // Half the variants are mutated before the pre-pass (which then masks differently), half on the mask itself.
    const beforePrepass = v % 2 === 0;
    const mask = beforePrepass ? engine.prepass(mutate(original)).mask : mutate(engine.prepass(original).mask);
    const want = referenceItems(mask);
    assert.deepEqual(norm(engine.functionItems(mask)), want, `variant ${v}`);
    if (want.length) withItems++;
    if (JSON.stringify(want) !== JSON.stringify(referenceItems(engine.prepass(original).mask))) differentFromOriginal++;
  }
  assert.ok(withItems > 300 && differentFromOriginal > 100, `${withItems} ${differentFromOriginal}`);
});

// ---------------------------------------------------------------------------------------------------------------
// Syntax node copies: same type, offsets and positions as tree-sitter's nodes, in full and span (on-demand) parses.

/** function_definition nodes of a tree, by start offset (also inside #if blocks and ERROR nodes). */
function tsFunctionNodes(root) {
  const out = new Map();
  const visit = (n) => {
    for (const c of n.namedChildren) {
      if (!c) continue;
      if (c.type === 'function_definition') out.set(c.startIndex, c);
      else visit(c);
    }
  };
  visit(root);
  return out;
}

/** Walks the copy and the tree-sitter node in parallel; returns the number of nodes compared. */
function compareNodes(copy, ts, where) {
  const pos = (n) => ({
    type: n.type, isNamed: n.isNamed, startIndex: n.startIndex, endIndex: n.endIndex,
    startPosition: { row: n.startPosition.row, column: n.startPosition.column },
    endPosition: { row: n.endPosition.row, column: n.endPosition.column },
    children: n.childCount,
  });
  assert.deepEqual(pos(copy), pos(ts), where);
  let n = 1;
  for (let i = 0; i < ts.childCount; i++) {
    const tc = ts.child(i);
    const cc = copy.child(i);
    assert.equal(cc.fieldName, ts.fieldNameForChild(i), `${where}/${i} field`);
    assert.equal(cc.parent, copy, `${where}/${i} parent`);
    n += compareNodes(cc, tc, `${where}/${i}:${tc.type}`);
  }
  return n;
}

function lineStarts(text) {
  const l = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) l.push(i + 1);
  return l;
}

/** Compares every function of `text` in a full parse and in span parses of all / every other function item. */
function checkPositions(text, label) {
  let nodes = 0;
  let fns = 0;
  const visitFunctions = (tree, found, mode) => {
    const ts = tsFunctionNodes(tree.rootNode);
    for (const fn of found) {
      const t = ts.get(fn.start);
      assert.ok(t, `${label} ${mode}: tree-sitter node of ${fn.name}`);
      assert.equal(fn.end, t.endIndex);
      assert.equal(fn.line, t.startPosition.row + 1);
      assert.equal(fn.endLine, t.endPosition.row + 1);
      assert.equal(fn.bodyStart, t.childForFieldName('body').startIndex);
      assert.equal(fn.body, fn.node.childForFieldName('body'));
      nodes += compareNodes(fn.node, t, `${label} ${mode} ${fn.name}`);
      fns++;
    }
  };
  const p = parser.parse(text);
  try {
    visitFunctions(p.tree, engine.findFunctions(p.tree, p.pre.text), 'full');
  } finally {
    p.tree.delete();
  }
  const pre = engine.prepass(text);
  const items = engine.functionItems(pre.mask);
  const lines = lineStarts(pre.text);
  const all = items.map((_, i) => i);
  for (const pick of [all, all.filter((i) => i % 2 === 1)]) {
    if (!pick.length) continue;
    const tree = parser.parseSpans(text, pre, pick.map((i) => [items[i].start, items[i].end]), undefined, lines);
    try {
      const found = engine.findFunctions(tree, pre.text, lines);
      assert.equal(found.length, pick.length, `${label}: one function per parsed item`);
      visitFunctions(tree, found, `spans ${pick.length}/${items.length}`);
    } finally {
      tree.delete();
    }
  }
  return { nodes, fns };
}

test('copied syntax nodes match tree-sitter on every rule fixture (full and on-demand span parses)', () => {
  let nodes = 0;
  let fns = 0;
  for (const file of listFiles(join(ROOT, 'test/fixtures/rules'))) {
    const r = checkPositions(readFileSync(file, 'utf8'), file);
    nodes += r.nodes;
    fns += r.fns;
  }
  assert.ok(fns >= 60 && nodes >= 5000, `${fns} functions, ${nodes} nodes`);
});

test('copied syntax nodes match tree-sitter with CRLF, non-ASCII and emoji before and inside functions', () => {
  const texts = [];
  for (const files of Object.values(SCENARIOS)) texts.push(...Object.values(unicodeVariant(files)));
  texts.push(
    '/* \u00e9 \u{1F600} \u65e5\u672c */\r\n// \u{1F600}\u{1F600}\r\nstatic const char *msg = "\u00fc\u{1F600}";\r\n\r\n' +
      'static int f(struct mm_struct *mm, spinlock_t *ptl)\r\n{\r\n\tconst char *s = "\u{1F600} x";\r\n\t/* \u2603\u{1F600} */ spin_lock(ptl);\r\n' +
      '\tg(s, \'\\u00e9\', "\u65e5\u672c\u{1F600}", L"\u{1F680}");\r\n\tspin_unlock(ptl);\r\n\treturn 0;\r\n}\r\n\r\n/* \u{1F389} */\r\n' +
      'void h(void)\r\n{\r\n\tk("\u{1F600}\u{1F600}\u{1F600}"); mmu_notifier_invalidate_range_start(NULL);\r\n}\r\n',
    // Mixed line endings, a lone CR inside a comment, and a line-continued macro before a function.
    '#define X(a) \\\r\n\tdo { } while (0)\r\n/* a\rb \u{1F600} */\nint f(void)\n{\r\n\treturn "\u{1F600}"[0]; // \u00e9\r\n}\n',
  );
  let fns = 0;
  for (const [i, t] of texts.entries()) fns += checkPositions(t, `text ${i}`).fns;
  assert.ok(fns >= 20, String(fns));
});

// ---------------------------------------------------------------------------------------------------------------
// Known problems, kept as TODO tests (they run and report, without failing the suite). See the report for details.

test('partial and full parse agree when a function annotation without arguments sits between ")" and "{"', () => {
  const text = `void root_fn(struct mm_struct *mm, pmd_t *pmd, unsigned long addr) __cold
{
	spinlock_t *ptl;
	pte_t *pte = pte_offset_map_lock(mm, pmd, addr, &ptl);

	mmu_notifier_invalidate_range_start(mm, addr, addr + 1); /* expect: notifier-under-ptl */
	pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_end(mm, addr, addr + 1);
}
`;
  const got = {};
  for (const [label, t] of [['__cold', text], ['form feed', text.replace(') __cold\n{', ')\n\f{')]]) {
    const { partial, full } = bothModes({ '/proj/a.c': t }, '4.4');
    assert.deepEqual(reported(full), ['notifier-under-ptl@a.c:6'], 'tree-sitter parses both as a function definition');
    got[label] = { partial: reported(partial), full: reported(full) };
  }
  assert.deepEqual(got, { '__cold': { partial: ['notifier-under-ptl@a.c:6'], full: ['notifier-under-ptl@a.c:6'] },
    'form feed': { partial: ['notifier-under-ptl@a.c:6'], full: ['notifier-under-ptl@a.c:6'] } });
});

test('findings do not depend on the order functions are analysed in', () => {
  const a = `static void mid(struct mm_struct *mm)
{
	deep(mm);
}

void root_fn(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, struct mmu_notifier_range *range)
{
	spinlock_t *ptl;
	pte_t *pte;

	pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	mid(mm);
	pte_unmap_unlock(pte, ptl);
	mmu_notifier_invalidate_range_start(range);
	mmu_notifier_invalidate_range_end(range);
}
`;
  const deep = sleepingHelper('').replace('helper', 'deep');
  const unrelated = 'static int deep(void)\n{\n\treturn 0;\n}\n/* mmu_notifier_invalidate_range_start */\n';
  const want = ['notifier-under-ptl@a.c:12'];
  const results = {
    'deep in 0.c': bothModes({ '/p/a.c': a, '/p/0.c': deep }),
    'deep in b.c': bothModes({ '/p/a.c': a, '/p/b.c': deep }),
    'deep in b.c, unrelated static deep() in 0a.c': bothModes({ '/p/a.c': a, '/p/b.c': deep, '/p/0a.c': unrelated }),
  };
  const got = Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { partial: reported(r.partial), full: reported(r.full) }]));
  for (const k of Object.keys(got)) assert.deepEqual(got[k], { partial: want, full: want }, JSON.stringify(got));
});

test('partial and full parse resolve a call the same way when two other files define the function', () => {
  const files = {
    '/p/a.c': ROOT_CALLER,
    '/p/b.c': boringHelper('') + '/* mmu_notifier_invalidate_range_start */\n',
    '/p/c.c': sleepingHelper(''),
  };
  const { partial, full } = bothModes(files);
  assert.deepEqual(outcome(partial), outcome(full), JSON.stringify({ partial: reported(partial), full: reported(full) }));
});

test('partial and full parse open the same lock-only files', () => {
  const files = {
    '/p/a.c': 'void root_fn(struct mm_struct *mm, unsigned long addr)\n{\n\tmmu_notifier_invalidate_range_start(mm, addr, addr + 1);\n\thelper(mm);\n\tmmu_notifier_invalidate_range_end(mm, addr, addr + 1);\n}\n',
    '/p/c.c': boringHelper('') + 'void change(struct mm_struct *mm, unsigned long addr, pte_t *ptep, pte_t pte)\n{\n\tset_pte_at_notify(mm, addr, ptep, pte);\n}\n',
    '/p/d.c': boringHelper('static ') + 'void user(struct mm_struct *mm, pmd_t *pmd, unsigned long addr, pte_t pte)\n{\n\tspinlock_t *ptl;\n\tpte_t *ptep = pte_offset_map_lock(mm, pmd, addr, &ptl);\n\n\tchange(mm, addr, ptep, pte);\n\tpte_unmap_unlock(ptep, ptl);\n}\n',
  };
  const { partial, full } = bothModes(files, '4.4');
  assert.deepEqual(outcome(partial), outcome(full), JSON.stringify({ partial: reported(partial), full: reported(full) }));
});
