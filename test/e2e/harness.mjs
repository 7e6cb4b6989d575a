// Drives a real VS Code (code-server + playwright-core + Debian's chromium) for end-to-end tests; every wait polls the screen.
//
// Typical use:
//   const vsc = await openVSCode({ extensions: [{ dir }], folder, name: 'my-test' });
//   try { await vsc.wb.openFile('a.c'); await vsc.wb.waitForSquiggle(); ... } finally { await vsc.close(); }
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CHROMIUM, CODE_SERVER_ENTRY, ROOT } from '../../scripts/e2e-setup.mjs';

export const ARTIFACTS_DIR = join(ROOT, '.test-artifacts', 'e2e');
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const CODE_SERVER_FLAGS = [
  '--auth', 'none',
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-workspace-trust',
  '--disable-getting-started-override',
  '--ignore-last-opened',
];
/** User settings that keep the workbench quiet and deterministic. */
export const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'workbench.enableExperiments': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'git.enabled': false,
  'git.openRepositoryInParentFolders': 'never',
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'window.restoreWindows': 'none',
};

const log = (m) => process.stderr.write(`[e2e] ${m}\n`);
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** Pids whose process group is `pgid` (read from /proc; field 5 of stat). */
export function processGroupMembers(pgid) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Pids of live processes whose command line contains `needle` (e.g. a language server's script path). */
export function processesMatching(needle) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) out.push(Number(d));
    } catch {
      // ended meanwhile
    }
  }
  return out;
}

/** Polls `cond` until it returns a truthy value (returned), or throws after `timeout`. */
export async function pollUntil(cond, { timeout = 30_000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${sec(timeout)} waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Kills a whole process group: SIGTERM, then SIGKILL for whatever is left after `graceMs`. */
export async function killProcessGroup(pgid, graceMs = 3000) {
  const signal = (sig) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  try {
    await pollUntil(() => processGroupMembers(pgid).length === 0, { timeout: graceMs, interval: 50, what: `process group ${pgid} to end` });
  } catch {
    signal('SIGKILL');
    await pollUntil(() => processGroupMembers(pgid).length === 0, { timeout: 5000, interval: 50, what: `process group ${pgid} to die after SIGKILL` });
  }
}

// Groups still alive when the test process exits (crash, assertion) are killed synchronously.
const liveGroups = new Set();
process.on('exit', () => {
  for (const g of liveGroups) {
    try {
      process.kill(-g, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/**
 * Fresh directories for one VS Code profile: user data (with settings.json), extensions, config file.
 * @param {{ base?: string, settings?: object }} [opts]
 */
export function makeProfile({ base, settings = {} } = {}) {
  const dir = base ?? mkdtempSync(join(tmpdir(), 'e2e-vscode-'));
  const userDataDir = join(dir, 'user-data');
  const extensionsDir = join(dir, 'extensions');
  const configFile = join(dir, 'config.yaml');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2));
  writeFileSync(configFile, 'auth: none\ncert: false\n');
  return { dir, userDataDir, extensionsDir, configFile };
}

function profileArgs(profile) {
  return ['--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir, '--config', profile.configFile];
}

/** Installs a .vsix into the profile with code-server's own `--install-extension` (before or while it runs). */
export function installVsix(profile, vsixPath) {
  if (!existsSync(CODE_SERVER_ENTRY)) throw new Error(`code-server is not installed (${CODE_SERVER_ENTRY}); run node scripts/e2e-setup.mjs`);
  const r = spawnSync(process.execPath, [CODE_SERVER_ENTRY, ...profileArgs(profile), '--install-extension', resolve(vsixPath), '--force'], {
    encoding: 'utf8',
    env: cleanEnv({}),
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`--install-extension ${vsixPath} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * Installs an unpacked extension folder by copying it to <extensions-dir>/<publisher>.<name>-<version>.
 * Top-level .git, .cache, .test-artifacts and (unless includeNodeModules) node_modules are left out, so the
 * repository root itself can be installed when its extension is bundled (dist/extension.js).
 * `only` restricts the copy to the listed top-level entries (package.json is always copied).
 * Returns the destination folder.
 * @param {{ extensionsDir: string }} profile
 * @param {string} srcDir
 * @param {{ includeNodeModules?: boolean, only?: string[] }} [opts]
 */
export function installUnpacked(profile, srcDir, { includeNodeModules = false, only } = {}) {
  const src = resolve(srcDir);
  const pkg = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  if (!pkg.publisher || !pkg.name || !pkg.version) throw new Error(`${src}/package.json needs publisher, name and version`);
  const dest = join(profile.extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`.toLowerCase());
  rmSync(dest, { recursive: true, force: true });
  const skip = new Set(['.git', '.cache', '.test-artifacts', ...(includeNodeModules ? [] : ['node_modules'])]);
  const keep = only ? new Set(['package.json', ...only]) : null;
  cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      if (p === src) return true;
      const top = p.slice(src.length + 1).split('/')[0];
      return !skip.has(top) && (!keep || keep.has(top));
    },
  });
  return dest;
}

/**
 * Packs an extension folder into a .vsix with the repository's @vscode/vsce (no dependencies: the extension is
 * expected to be bundled). Returns the .vsix path.
 * @param {string} srcDir  folder with the extension's package.json
 * @param {string} outFile  where to write the .vsix
 * @param {string[]} [extraArgs]  more `vsce package` arguments
 */
export function packageVsix(srcDir, outFile, extraArgs = []) {
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const r = spawnSync(process.execPath, [vsce, 'package', '--no-dependencies', '--skip-license', '-o', resolve(outFile), ...extraArgs], {
    cwd: srcDir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`vsce package in ${srcDir} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return resolve(outFile);
}

/**
 * Starts code-server on a free port in its own session (setsid) so that stop() ends it with the extension host
 * and any language server. Resolves once /healthz answers.
 * @param {{ profile?: object, settings?: object, env?: object, logName?: string, timeout?: number }} [opts]
 */
export async function startCodeServer({ profile, settings, env = {}, logName = 'code-server', timeout = 60_000 } = {}) {
  if (!existsSync(CODE_SERVER_ENTRY)) throw new Error(`code-server is not installed (${CODE_SERVER_ENTRY}); run node scripts/e2e-setup.mjs`);
  profile ??= makeProfile({ settings });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const logFile = join(ARTIFACTS_DIR, `${logName}.log`);
  const logStream = createWriteStream(logFile);
  const t0 = Date.now();
  // detached: true makes Node call setsid(): the child leads a new process group we can kill as a whole.
  const proc = spawn(process.execPath, [CODE_SERVER_ENTRY, ...profileArgs(profile), '--bind-addr', `127.0.0.1:${port}`, ...CODE_SERVER_FLAGS], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv(env),
  });
  const pgid = proc.pid;
  liveGroups.add(pgid);
  proc.stdout.pipe(logStream, { end: false });
  proc.stderr.pipe(logStream, { end: false });
  let exited = null;
  proc.on('exit', (code, sig) => {
    exited = { code, sig };
  });
  const stop = async () => {
    await killProcessGroup(pgid);
    liveGroups.delete(pgid);
    logStream.end();
  };
  try {
    await pollUntil(
      async () => {
        if (exited) throw new Error(`code-server exited early (${JSON.stringify(exited)}); log: ${logFile}\n${tail(logFile)}`);
        try {
          const r = await fetch(`${url}/healthz`);
          return r.ok;
        } catch {
          return false;
        }
      },
      { timeout, interval: 200, what: `code-server /healthz on ${url}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  log(`code-server up on ${url} in ${sec(Date.now() - t0)} (pgid ${pgid}, log ${logFile})`);
  return { url, port, pid: proc.pid, pgid, profile, logFile, stop, log: () => tail(logFile, 200) };
}

/** The environment without variables of an enclosing VS Code or code-server (VSCODE_IPC_HOOK_CLI would make
 * code-server hand its arguments to that instance) and without a password. */
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(VSCODE_|ELECTRON_)|^(PASSWORD|HASHED_PASSWORD|CODE_SERVER_CONFIG)$/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The extension-host and window logs of a profile (the place to look when an extension did not activate). */
export function extensionHostLogs(profile, lines = 80) {
  const logsDir = join(profile.userDataDir, 'logs');
  const out = [];
  const walk = (d) => {
    for (const e of existsSync(d) ? readdirSync(d, { withFileTypes: true }) : []) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/exthost|remoteagent|window|renderer/i.test(e.name) && e.name.endsWith('.log')) out.push(`--- ${p}\n${tail(p, lines)}`);
    }
  };
  walk(logsDir);
  return out.join('\n');
}

/** Launches headless Debian chromium through playwright-core with a fresh persistent profile. */
export async function launchBrowser({ viewport = { width: 1400, height: 900 }, executablePath = CHROMIUM } = {}) {
  const { chromium } = await import('playwright-core');
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { context, page, consoleErrors, close };
}

/** Prefixes a playwright timeout with what the test was waiting for. */
async function explain(promise, what) {
  try {
    return await promise;
  } catch (err) {
    err.message = `waiting for ${what}: ${err.message}`;
    throw err;
  }
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const toRe = (t) => (t instanceof RegExp ? t : new RegExp(escapeRe(t)));
const norm = (s) => s.replace(/\u00a0/g, ' ');

/** High-level actions on the VS Code workbench in a playwright page. */
export class Workbench {
  /** @param {import('playwright-core').Page} page @param {string} baseUrl */
  constructor(page, baseUrl, { timeout = 30_000, screenshotPrefix = '' } = {}) {
    this.page = page;
    this.baseUrl = baseUrl;
    this.timeout = timeout;
    this.screenshotPrefix = screenshotPrefix;
  }

  /** Opens `dir` as the workspace folder and waits for the explorer to list it. */
  async openFolder(dir) {
    await this.page.goto(`${this.baseUrl}/?folder=${encodeURIComponent(resolve(dir))}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: this.timeout });
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: this.timeout });
  }

  /** Row of the explorer tree whose label is exactly `label`. */
  explorerRow(label) {
    return this.page.locator('.explorer-folders-view .monaco-list-row', {
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(label)}$`) }),
    });
  }

  /** Opens a file of the workspace by double-clicking it in the explorer ('dir/sub/file.c' expands the folders). */
  async openFile(relPath) {
    const parts = relPath.split('/').filter(Boolean);
    const name = parts.pop();
    for (const folder of parts) {
      const row = this.explorerRow(folder).first();
      await row.waitFor({ timeout: this.timeout });
      if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
      await pollUntil(async () => (await row.getAttribute('aria-expanded')) === 'true', { timeout: this.timeout, what: `folder ${folder} to expand` });
    }
    const row = this.explorerRow(name).first();
    await explain(row.waitFor({ timeout: this.timeout }), `explorer row ${name}`);
    await row.dblclick();
    await explain(this.activeTab(name).waitFor({ timeout: this.timeout }), `an editor tab for ${name}`);
    await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first().waitFor({ timeout: this.timeout });
  }

  /** The active editor tab, optionally only if its label is `name`. */
  activeTab(name) {
    const tabs = this.page.locator('.tabs-container .tab.active');
    return name ? tabs.filter({ has: this.page.locator('.label-name', { hasText: name }) }) : tabs;
  }

  /** The monaco editor of the active editor group. */
  editor() {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Text of the visible lines of the active editor (only rendered lines; fine for small files). */
  async editorText() {
    const lines = await this.editor().locator('.view-lines .view-line').evaluateAll((els) =>
      els.map((e) => ({ top: parseFloat(e.style.top) || 0, text: e.textContent ?? '' })).sort((a, b) => a.top - b.top).map((l) => l.text),
    );
    return norm(lines.join('\n'));
  }

  /** Waits until the active editor's text matches `pattern` (string: contains). */
  async waitForEditorText(pattern, { timeout = this.timeout } = {}) {
    const re = toRe(pattern);
    return pollUntil(async () => re.test(await this.editorText()) && (await this.editorText()), { timeout, what: `editor text ${re}` });
  }

  /** Squiggle locator; severity 'error' | 'warning' | 'info' | 'hint' | 'any'. */
  squiggles(severity = 'any') {
    const sel = severity === 'any' ? ['error', 'warning', 'info', 'hint'].map((s) => `.squiggly-${s}`).join(', ') : `.squiggly-${severity}`;
    return this.editor().locator(sel);
  }

  /** Waits until at least one squiggle of `severity` is drawn in the active editor; returns the count. */
  async waitForSquiggle({ severity = 'any', timeout = this.timeout } = {}) {
    await explain(this.squiggles(severity).first().waitFor({ state: 'attached', timeout }), `a ${severity} squiggle in the active editor`);
    return this.squiggles(severity).count();
  }

  /** Waits until the active editor shows no squiggle of `severity`. */
  async waitForNoSquiggle({ severity = 'any', timeout = this.timeout } = {}) {
    await pollUntil(async () => (await this.squiggles(severity).count()) === 0, { timeout, what: `no ${severity} squiggle` });
  }

  /** Puts the cursor at line:column (1-based) with Go to Line (Control+G). */
  async gotoLine(line, column = 1) {
    await this.focusEditor();
    await this.page.keyboard.press('Control+g');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: this.timeout });
    await input.fill(`:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: this.timeout });
    await pollUntil(async () => (await this.cursorPosition())?.line === line, { timeout: this.timeout, what: `cursor on line ${line}` });
  }

  /** Cursor position from the status bar ("Ln 3, Col 5"), or null. */
  async cursorPosition() {
    const text = await this.page.locator('#status\\.editor\\.selection').innerText().catch(() => '');
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    return m ? { line: Number(m[1]), column: Number(m[2]) } : null;
  }

  async focusEditor() {
    await this.editor().locator('.view-lines').click({ position: { x: 5, y: 5 } }).catch(() => {});
    await this.editor().locator('textarea, .native-edit-context').first().focus().catch(() => {});
  }

  /** Opens the Problems panel (Control+Shift+M) and waits for it. */
  async openProblems() {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible().catch(() => false))) {
      await this.page.keyboard.press('Control+Shift+M');
      await panel.waitFor({ state: 'visible', timeout: this.timeout });
    }
    return panel;
  }

  /** Rows of the Problems panel: { label (aria-label: severity, message, position), text }. */
  async problemRows() {
    await this.openProblems();
    return this.page.locator('.markers-panel .monaco-list-row').evaluateAll((els) =>
      els.map((e) => ({ label: e.getAttribute('aria-label') ?? '', text: (e.textContent ?? '').replace(/\u00a0/g, ' ') })),
    );
  }

  /** Waits for a Problems row whose text or aria-label matches `pattern`; returns it. */
  async waitForProblem(pattern, { timeout = this.timeout } = {}) {
    const re = toRe(pattern);
    return pollUntil(async () => (await this.problemRows()).find((r) => re.test(r.label) || re.test(r.text)), { timeout, what: `Problems row ${re}` });
  }

  /** Waits until no Problems row matches `pattern` (default: no rows at all). */
  async waitForNoProblem(pattern = /.*/, { timeout = this.timeout } = {}) {
    const re = toRe(pattern);
    await pollUntil(async () => !(await this.problemRows()).some((r) => re.test(r.label) || re.test(r.text)), { timeout, what: `no Problems row ${re}` });
  }

  /**
   * Opens the quick-fix menu at the cursor (Control+., retried because it is sometimes swallowed), focuses the
   * entry matching `title` (default: the first) and applies it with Enter. Returns the titles offered.
   */
  async quickFix(title, { attempts = 6 } = {}) {
    const widget = this.page.locator('.action-widget');
    const rows = widget.locator('.monaco-list-row.action');
    for (let i = 0; ; i++) {
      await this.focusEditorKeepCursor();
      await this.page.keyboard.press('Control+.');
      try {
        await rows.first().waitFor({ state: 'visible', timeout: 3000 });
        break;
      } catch {
        if (i + 1 >= attempts) throw new Error(`quick-fix menu did not open after ${attempts} Control+. presses`);
        await this.page.keyboard.press('Escape');
      }
    }
    const titles = (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''))).map(norm);
    if (title !== undefined) {
      const re = toRe(title);
      const index = titles.findIndex((t) => re.test(t));
      if (index < 0) throw new Error(`no quick fix matching ${re}; offered: ${JSON.stringify(titles)}`);
      const focused = widget.locator('.monaco-list-row.action.focused');
      await pollUntil(
        async () => {
          const t = norm((await focused.getAttribute('aria-label').catch(() => null)) ?? (await focused.textContent().catch(() => '')) ?? '');
          if (re.test(t)) return true;
          await this.page.keyboard.press('ArrowDown');
          return false;
        },
        { timeout: this.timeout, interval: 50, what: `quick fix ${re} to be focused` },
      );
    }
    await this.page.keyboard.press('Enter');
    await widget.waitFor({ state: 'hidden', timeout: this.timeout }).catch(() => {});
    return titles;
  }

  /** Gives the editor keyboard focus without moving the cursor. */
  async focusEditorKeepCursor() {
    const target = this.editor().locator('textarea.inputarea, .native-edit-context').first();
    if (await target.count()) await target.focus();
    else await this.editor().click();
  }

  /** Runs a command by its palette title (F1, type, pick the row whose label is `title`). */
  async runCommand(title) {
    const widget = this.page.locator('.quick-input-widget');
    await this.page.keyboard.press('Escape');
    await this.page.keyboard.press('F1');
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible', timeout: this.timeout });
    await input.fill(`>${title}`);
    const row = widget.locator('.quick-input-list .monaco-list-row', {
      has: this.page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(title)}$`) }),
    });
    await row.first().waitFor({ state: 'visible', timeout: this.timeout });
    await row.first().click();
    await widget.waitFor({ state: 'hidden', timeout: this.timeout });
  }

  /** Waits for a notification toast whose text matches `pattern`; returns its locator. */
  async waitForNotification(pattern, { timeout = this.timeout } = {}) {
    const toast = this.page.locator('.notifications-toasts .notification-list-item', { hasText: toRe(pattern) }).first();
    await explain(toast.waitFor({ state: 'visible', timeout }), `a notification matching ${toRe(pattern)}`);
    await this.waitForSettled(toast, { timeout });
    return toast;
  }

  /** Waits until an element is inside the viewport and has stopped moving (toasts slide in). */
  async waitForSettled(locator, { timeout = this.timeout } = {}) {
    let last = '';
    await pollUntil(
      async () => {
        const box = await locator.boundingBox();
        const vp = this.page.viewportSize();
        if (!box || (vp && box.y + box.height > vp.height + 1)) return false;
        const key = JSON.stringify(box);
        const settled = key === last;
        last = key;
        return settled;
      },
      { timeout, interval: 100, what: 'element to settle' },
    );
  }

  /** Saves a full-page screenshot to .test-artifacts/e2e/<name>.png; returns its path. */
  async screenshot(name) {
    mkdirSync(ARTIFACTS_DIR, { recursive: true });
    const file = join(ARTIFACTS_DIR, `${this.screenshotPrefix}${name}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }
}

/**
 * One call for a test: fresh profile, extensions installed ({ dir } copied or { vsix } installed), code-server
 * started, chromium launched, folder opened. close() ends browser and server (whole process group) and removes
 * the profile.
 * @param {{ extensions?: Array<{dir?: string, vsix?: string}>, folder?: string, settings?: object, name?: string, env?: object }} [opts]
 */
export async function openVSCode({ extensions = [], folder, settings = {}, name = 'vscode', env = {} } = {}) {
  const t0 = Date.now();
  const profile = makeProfile({ settings });
  for (const ext of extensions) {
    if (ext.vsix) installVsix(profile, ext.vsix);
    else if (ext.dir) installUnpacked(profile, ext.dir);
    else throw new Error('extension needs { dir } or { vsix }');
  }
  let server;
  let browser;
  const close = async () => {
    await browser?.close();
    await server?.stop();
    // Keep VS Code's own logs (extension host, window) as artefacts before the profile goes.
    const logsDir = join(profile.userDataDir, 'logs');
    if (existsSync(logsDir)) cpSync(logsDir, join(ARTIFACTS_DIR, `${name}-logs`), { recursive: true });
    rmSync(profile.dir, { recursive: true, force: true });
  };
  try {
    server = await startCodeServer({ profile, env, logName: `${name}-code-server` });
    browser = await launchBrowser();
    const wb = new Workbench(browser.page, server.url, { screenshotPrefix: `${name}-` });
    if (folder) await wb.openFolder(folder);
    log(`VS Code ready for ${name} in ${sec(Date.now() - t0)}`);
    return { server, browser, page: browser.page, wb, profile, close, logs: () => `${server.log()}\n${extensionHostLogs(profile)}` };
  } catch (err) {
    const logs = server ? `${server.log()}\n${extensionHostLogs(profile)}` : '';
    await close();
    err.message += logs ? `\n--- logs ---\n${logs}` : '';
    throw err;
  }
}

/** Builds the extension's .vsix the way a release does (`npm run package`); returns its path. */
export function packageExtension(root) {
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], timeout: 240_000 });
  return join(root, 'mmu-notifier-audit.vsix');
}

/** A temporary kernel-like folder: a top-level Makefile with the version and `file` holding `fixture`'s text. */
export function kernelLikeWorkspace(prefix, fixture, { major = 5, minor = 10, file = 'mm/memory.c' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'Makefile'), `VERSION = ${major}\nPATCHLEVEL = ${minor}\nSUBLEVEL = 0\n`);
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), readFileSync(fixture, 'utf8'));
  return dir;
}

/**
 * Runs `body(vsc)` in a fresh VS Code (openVSCode options); on failure saves a screenshot and appends the logs to the
 * error; always closes it, then checks that its whole process group is gone. Returns what `body` returns.
 */
export async function withVSCode(opts, body) {
  const vsc = await openVSCode(opts);
  const pgid = vsc.server.pgid;
  let result;
  try {
    result = await body(vsc);
  } catch (err) {
    await vsc.wb.screenshot('failure').catch(() => {});
    err.message += `\n--- logs ---\n${vsc.logs()}`;
    throw err;
  } finally {
    await vsc.close();
  }
  const left = processGroupMembers(pgid);
  if (left.length) throw new Error(`code-server process group must be gone, still running: ${left.join(' ')}`);
  return result;
}
