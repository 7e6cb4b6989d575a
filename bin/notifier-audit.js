#!/usr/bin/env node
'use strict';
// Entry point of the notifier-audit CLI: loads the bundled CLI (built by `npm run build`).
// Start-up is part of every one-file run, so this file keeps it lean:
// - wasm runs on V8's baseline compiler only (tiering up the grammar's big lexer costs more than a run gains);
// - the bundle is compiled with a V8 code cache, kept next to it (or in the temp directory), so a run does not
//   parse and compile again the functions earlier runs compiled;
// - the process exits as soon as the report is written.
const v8 = require('v8');
v8.setFlagsFromString('--liftoff-only');
const fs = require('node:fs');
const path = require('node:path');
const argv = process.argv.slice(2);
// An audit (not lsp, simulate, rules, --help, --version): the runs worth a code cache and a short-run mode.
const audits = !['lsp', 'simulate', 'rules'].includes(argv[0]) && !argv.some((a) => a === '-h' || a === '--help' || a === '--version');
// A short run (explicit files, under 1 MB in all) ends before V8's optimising compiler pays off: its background
// compiles take the second core and the process waits for the last one at exit (~25 ms on mm/memory.c).
const noOpt = !process.env.NOTIFIER_AUDIT_OPT && audits && smallRun(argv);
if (noOpt) v8.setFlagsFromString('--no-opt');

function smallRun(args) {
  let total = 0;
  let files = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (/^--(format|kernel-version|config|diff|output|jobs)$/.test(a) || a === '-o' || a === '-j') {
      i++;
      continue;
    }
    if (a.startsWith('-') && a !== '-') continue;
    try {
      const st = fs.statSync(a);
      if (!st.isFile()) return false;
      total += st.size;
      files++;
    } catch {
      return false;
    }
  }
  return files > 0 && total < 1 << 20;
}
const cli = path.join(__dirname, '..', 'dist', 'cli.js');

/** Loads dist/cli.js like require() does, through a code cache; returns the module and a function saving the cache. */
function loadWithCodeCache(file) {
  const vm = require('node:vm');
  const Module = require('node:module');
  const st = fs.statSync(file);
  const source = fs.readFileSync(file, 'utf8');
  // V8 checks the cache against the source length and its own version and flags, not the content: the file's
  // size and modification time are in the cache's name, so a rebuilt bundle never meets an old cache. The flags
  // differ between short and long runs: one cache for each.
  const bundle = `${st.size}-${Math.floor(st.mtimeMs)}`;
  const name = `cli-${process.versions.v8}-${noOpt ? 'short' : 'long'}-${bundle}.cache`;
  const uid = process.getuid ? process.getuid() : -1;
  const tmpDir = path.join(require('node:os').tmpdir(), `notifier-audit-${uid}`);
  const dirs = [path.join(path.dirname(file), '.cache'), tmpDir];
  // A cache holds code: one in the shared temp directory is used only from a directory this user owns and only
  // this user can write (next to the bundle, whoever can write the cache could write the bundle itself).
  const trusted = (d) => {
    if (d !== tmpDir) return true;
    const s = fs.statSync(d);
    return s.isDirectory() && (uid < 0 || s.uid === uid) && (s.mode & 0o022) === 0;
  };
  // V8 release builds do not checksum code caches, and a damaged one crashes the process: each file starts with
  // the CRC-32 of its payload, checked before V8 sees it.
  const { crc32 } = require('node:zlib');
  if (typeof crc32 !== 'function') throw new Error('no zlib.crc32 (Node < 20.15): no code cache');
  let cached;
  let damaged = false;
  for (const d of dirs) {
    try {
      if (!trusted(d)) continue;
      const file = fs.readFileSync(path.join(d, name));
      if (file.length > 4 && file.readUInt32LE(0) === crc32(file.subarray(4))) cached = file.subarray(4);
      else damaged = true;
      break;
    } catch {
      /* not cached there */
    }
  }
  const script = new vm.Script(Module.wrap(source), { filename: file, cachedData: cached });
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(path.dirname(file));
  const req = (id) => mod.require(id);
  req.resolve = (id) => Module._resolveFilename(id, mod);
  req.cache = Module._cache;
  req.main = require.main;
  if (process.env.NOTIFIER_AUDIT_CACHE_DEBUG) process.stderr.write(`code cache (${noOpt ? "short" : "long"} run): ${damaged ? "rejected" : cached ? (script.cachedDataRejected ? "rejected" : "used") : "none"}\n`);
  script.runInThisContext().call(mod.exports, mod.exports, req, mod, file, path.dirname(file));
  mod.loaded = true;
  const save = () => {
    if (cached && !script.cachedDataRejected && !damaged) return;
    // After the run: the cache then holds every function the run compiled. Written atomically (tmp + rename).
    const payload = script.createCachedData();
    const data = Buffer.allocUnsafe(payload.length + 4);
    data.writeUInt32LE(crc32(payload), 0);
    payload.copy(data, 4);
    for (const d of dirs) {
      try {
        fs.mkdirSync(d, { recursive: true, mode: 0o700 });
        if (!trusted(d)) continue;
        const tmp = path.join(d, `${name}.${process.pid}.tmp`);
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, path.join(d, name));
        for (const old of fs.readdirSync(d)) if (old.startsWith('cli-') && !old.endsWith(`-${bundle}.cache`) && old.endsWith('.cache')) fs.rmSync(path.join(d, old), { force: true });
        return;
      } catch {
        /* not writable: try the next place */
      }
    }
  };
  return { exports: mod.exports, save };
}

if (!fs.existsSync(cli)) {
  process.stderr.write('notifier-audit: dist/cli.js is missing; run `npm run build` first\n');
  process.exit(2);
}
let loaded;
if (!process.env.NOTIFIER_AUDIT_NO_CODE_CACHE) {
  try {
    loaded = loadWithCodeCache(cli);
  } catch {
    /* no cache: the plain require below */
  }
}
loaded ??= { exports: require(cli), save: () => undefined };
loaded.exports.main(argv).then(
  (code) => {
    process.exitCode = code;
    try {
      if (audits) loaded.save();
    } catch {
      /* a cache is an optimisation */
    }
    // An audit is done once its report is written: exit then, rather than wait for V8's background work (optimising
    // compiles, GC) to drain, which costs ~15 ms. The language server keeps running (its promise never settles).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  },
  (err) => { process.stderr.write(`notifier-audit: internal error: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 2; },
);
