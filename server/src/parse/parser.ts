// Tree-sitter set-up: web-tree-sitter 0.25.10 runtime with the tree-sitter-c 0.24.1 grammar wasm (copied to dist/ by the build).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Language, Parser, type Edit, type Tree } from 'web-tree-sitter';
import { prepass, type PrepassResult } from './prepass';
import { lastAtOrBefore, lineStartsOf, pointAt, toRanges } from './ranges';
import { useRuntime } from './syntax';
import type { TsModule } from './walker';

export type { Tree };

/** Finds the folder holding tree-sitter.wasm and tree-sitter-c.wasm: next to the bundle, or in node_modules during development. */
function wasmDir(explicit?: string): string {
  const candidates = [explicit, __dirname, join(__dirname, '..', 'dist'), join(__dirname, '..', '..', 'dist')].filter(Boolean) as string[];
  for (const d of candidates) if (existsSync(join(d, 'tree-sitter-c.wasm')) && existsSync(join(d, 'tree-sitter.wasm'))) return d;
  throw new Error(`cannot find tree-sitter-c.wasm (looked in ${candidates.join(', ')}); run \`npm run build\``);
}

let languagePromise: Promise<Language> | undefined;

async function loadLanguage(dir?: string): Promise<Language> {
  if (!languagePromise) {
    languagePromise = (async () => {
      const d = wasmDir(dir);
      // Both binaries are handed over as bytes: loading by path makes the runtime read them through
      // \`import('fs/promises')\`, which starts Node's ES module loader (several milliseconds at start-up).
      // The memory is ours (the runtime's default: 32 MB, up to 2 GB) so that walker.ts can import it; the options
      // object becomes the runtime's module (emscripten), which walker.ts uses for the cursor functions.
      const opts = {
        locateFile: (name: string) => join(d, name),
        wasmBinary: readFileSync(join(d, 'tree-sitter.wasm')),
        wasmMemory: new WebAssembly.Memory({ initial: 512, maximum: 32768 }),
      };
      await Parser.init(opts);
      useRuntime(opts as unknown as TsModule);
      return Language.load(readFileSync(join(d, 'tree-sitter-c.wasm')));
    })();
  }
  return languagePromise;
}

export interface ParsedText {
  /** The original text (what positions refer to). */
  text: string;
  /** The pre-passed text that was parsed (same length). */
  pre: PrepassResult;
  tree: Tree;
}

/** A C parser with the kernel pre-pass; supports incremental re-parse of a changed document. */
export class CParser {
  private constructor(private readonly parser: Parser) {}

  static async create(dir?: string): Promise<CParser> {
    const lang = await loadLanguage(dir);
    const p = new Parser();
    p.setLanguage(lang);
    return new CParser(p);
  }

  /**
   * Parses the given spans of an already pre-passed file as one tree (tree-sitter included ranges): the engine's
   * batch mode parses function definitions on demand, a few at a time. `text` is the original text; `lines` the line
   * starts of the file (kept by the caller, which parses the same file several times).
   */
  parseSpans(text: string, pre: PrepassResult, spans: Array<[number, number]>, deadlineMs: number | undefined, lines: number[]): Tree {
    const start = Date.now();
    const options = {
      includedRanges: toRanges(spans.length ? spans : [[0, 0]], lines),
      ...(deadlineMs ? { progressCallback: () => Date.now() - start > deadlineMs } : {}),
    };
    // Input is handed over up to the end of the span being read: given the whole string, the runtime copies 10 KB
    // into wasm memory at every read, mostly text between the spans that the lexer then skips.
    const src = pre.text;
    const sorted = spans.slice().sort((x, y) => x[0] - y[0]);
    const starts = sorted.map((sp) => sp[0]);
    const read = (index: number): string => {
      const span = sorted[lastAtOrBefore(starts, index)];
      const end = span && span[0] <= index && index < span[1] ? Math.min(span[1], index + 4096) : index + 4096;
      return src.slice(index, end);
    };
    this.parser.reset();
    const tree = this.parser.parse(read, null, options as never);
    if (!tree) {
      this.parser.reset();
      throw new Error(`parse exceeded its time budget of ${deadlineMs} ms (${text.length} characters)`);
    }
    return tree;
  }

  /** Bare parse without the pre-pass (the benchmark baseline). */
  parseRaw(text: string): Tree {
    const t = this.parser.parse(text);
    if (!t) throw new Error('tree-sitter returned no tree');
    return t;
  }

  /**
   * Parses `text`; with `old`, re-uses the old tree: the edit is the common prefix/suffix difference of the two
   * pre-passed texts (the pre-pass can change text beyond the user's edit, so diffing its output is what is exact).
   */
  parse(text: string, old?: ParsedText, deadlineMs?: number): ParsedText {
    const pre = prepass(text);
    let oldTree: Tree | null = null;
    if (old) {
      const edit = diffEdit(old.pre.text, pre.text);
      if (!edit) return { text, pre, tree: old.tree };
      // The old tree is edited in place: the caller replaces (and deletes) it once this parse is done.
      oldTree = old.tree;
      oldTree.edit(edit);
    }
    const start = Date.now();
    let cancelled = false;
    const options = deadlineMs
      ? {
          progressCallback: () => {
            if (Date.now() - start > deadlineMs) cancelled = true;
            return cancelled;
          },
        }
      : undefined;
    this.parser.reset();
    const tree = this.parser.parse(pre.text, oldTree, options as never);
    if (!tree || cancelled) {
      tree?.delete();
      this.parser.reset();
      throw new Error(`parse exceeded its time budget of ${deadlineMs} ms`);
    }
    return { text, pre, tree };
  }
}

/** The single edit that turns `a` into `b` (common prefix and suffix), or undefined when equal. */
export function diffEdit(a: string, b: string): Edit | undefined {
  if (a === b) return undefined;
  let p = 0;
  const min = Math.min(a.length, b.length);
  while (p < min && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  let s = 0;
  while (s < min - p && a.charCodeAt(a.length - 1 - s) === b.charCodeAt(b.length - 1 - s)) s++;
  const oldEnd = a.length - s;
  const newEnd = b.length - s;
  const linesA = lineStartsOf(a);
  return {
    startIndex: p,
    oldEndIndex: oldEnd,
    newEndIndex: newEnd,
    startPosition: pointAt(linesA, p),
    oldEndPosition: pointAt(linesA, oldEnd),
    newEndPosition: pointAt(lineStartsOf(b), newEnd),
  } as Edit;
}
