// Runs Debian's Neovim (0.7 API) headless as a second real LSP client: diagnostics, a quick-fix applied, the text after.
//
//   const r = await runNeovimLsp({ serverCmd: ['node', 'dist/server.js', '--stdio'], rootDir, file: 'mm/x.c',
//                                   codeAction: { title: 'Insert' } });
//   r.diagnostics, r.codeActions, r.textAfter, r.diagnosticsAfter
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { killProcessGroup, processGroupMembers } from './harness.mjs';

export const NVIM = process.env.NVIM_BIN || 'nvim';

/** The version line of nvim ("NVIM v0.7.2"), or null when nvim is not installed. */
export function nvimVersion() {
  const r = spawnSync(NVIM, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0] : null;
}

/**
 * Runs `nvim --headless --clean -c 'luafile <script>'` in its own process group (killed as a group afterwards, so
 * a language server it started cannot outlive it). The script gets the path of a JSON-lines result file in the
 * global `E2E_OUT`; every line it appends there is parsed into `results`.
 * @param {string} lua  Lua source
 * @param {{ cwd?: string, timeout?: number, env?: object }} [opts]
 * @returns {Promise<{ code: number|null, signal: string|null, stdout: string, stderr: string, results: object[], durationMs: number, leftovers: number[] }>}
 */
export async function runNvimLua(lua, { cwd = process.cwd(), timeout = 30_000, env = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-nvim-'));
  const script = join(dir, 'test.lua');
  const out = join(dir, 'out.jsonl');
  writeFileSync(out, '');
  writeFileSync(script, `E2E_OUT = ${luaString(out)}\n${lua}`);
  const t0 = Date.now();
  const proc = spawn(NVIM, ['--headless', '--clean', '-n', '-i', 'NONE', '-c', `luafile ${script}`], {
    cwd,
    detached: true, // setsid: nvim and the server it spawns form one group we can kill
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, XDG_STATE_HOME: dir, XDG_DATA_HOME: dir, XDG_CACHE_HOME: dir, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killProcessGroup(proc.pid, 500).catch(() => {});
  }, timeout);
  const [code, signal] = await new Promise((res, rej) => {
    proc.on('error', rej);
    proc.on('close', (c, s) => res([c, s]));
  });
  clearTimeout(timer);
  const durationMs = Date.now() - t0;
  // A language server that ignored shutdown/exit would still be in the group: note it, then end it.
  const leftovers = processGroupMembers(proc.pid);
  if (leftovers.length) await killProcessGroup(proc.pid, 1000);
  const results = readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  rmSync(dir, { recursive: true, force: true });
  if (timedOut) throw new Error(`nvim timed out after ${timeout} ms\nstderr: ${stderr}\nresults: ${JSON.stringify(results)}`);
  return { code, signal, stdout, stderr, results, durationMs, leftovers };
}

const luaString = (s) => `"${String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** The Lua scenario: start the client, open the file, wait for diagnostics, optionally apply a code action. */
const SCENARIO_LUA = String.raw`
local cfg = vim.fn.json_decode(table.concat(vim.fn.readfile(E2E_CFG), '\n'))

local function emit(kind, value)
  local f = io.open(E2E_OUT, 'a')
  f:write(vim.fn.json_encode({ kind = kind, value = value }) .. '\n')
  f:close()
end

local function fail(msg)
  emit('error', tostring(msg))
  vim.cmd('cquit 1')
end

local raw = {}        -- uri -> LSP diagnostics as the server sent them
local publishes = {}  -- uri -> number of publishDiagnostics received
local exited = nil

local function main()
  vim.cmd('edit ' .. vim.fn.fnameescape(cfg.file))
  local buf = vim.api.nvim_get_current_buf()
  if cfg.filetype ~= vim.NIL and cfg.filetype ~= nil then vim.bo[buf].filetype = cfg.filetype end
  local uri = vim.uri_from_bufnr(buf)

  local client_id = vim.lsp.start_client({
    name = 'e2e',
    cmd = cfg.cmd,
    cmd_cwd = cfg.rootDir,
    root_dir = cfg.rootDir,
    workspace_folders = { { uri = vim.uri_from_fname(cfg.rootDir), name = 'root' } },
    settings = cfg.settings,
    init_options = cfg.initializationOptions,
    flags = { debounce_text_changes = 0 },
    handlers = {
      ['textDocument/publishDiagnostics'] = function(err, result, ctx, config)
        raw[result.uri] = result.diagnostics
        publishes[result.uri] = (publishes[result.uri] or 0) + 1
        return vim.lsp.handlers['textDocument/publishDiagnostics'](err, result, ctx, config)
      end,
    },
    on_exit = function(code, signal) exited = { code = code, signal = signal } end,
  })
  if not client_id then return fail('vim.lsp.start_client returned nil for ' .. vim.inspect(cfg.cmd)) end
  if not vim.lsp.buf_attach_client(buf, client_id) then return fail('buf_attach_client failed') end

  local ok = vim.wait(cfg.timeoutMs, function()
    return exited ~= nil or (publishes[uri] or 0) > 0 and #raw[uri] >= cfg.minDiagnostics
  end, 10)
  if exited then return fail('language server exited: ' .. vim.inspect(exited)) end
  if not ok then
    return fail(('no %d diagnostic(s) for %s within %d ms; got %s'):format(cfg.minDiagnostics, uri, cfg.timeoutMs, vim.fn.json_encode(raw[uri] or {})))
  end
  emit('diagnostics', raw[uri])
  emit('nvimDiagnostics', vim.tbl_map(function(d)
    return { lnum = d.lnum, col = d.col, message = d.message, severity = d.severity, source = d.source }
  end, vim.diagnostic.get(buf)))

  if cfg.codeAction == vim.NIL or cfg.codeAction == nil then return end
  local ca = cfg.codeAction
  local diag = raw[uri][(ca.diagnosticIndex or 0) + 1]
  if not diag then return fail('no diagnostic at index ' .. tostring(ca.diagnosticIndex)) end
  local params = {
    textDocument = { uri = uri },
    range = diag.range,
    context = { diagnostics = { diag } },
  }
  if ca.only ~= nil and ca.only ~= vim.NIL then params.context.only = ca.only end
  local responses, err = vim.lsp.buf_request_sync(buf, 'textDocument/codeAction', params, cfg.timeoutMs)
  if not responses then return fail('codeAction request failed: ' .. tostring(err)) end
  local actions = {}
  for _, resp in pairs(responses) do
    if resp.error then return fail('codeAction error: ' .. vim.inspect(resp.error)) end
    for _, a in ipairs(resp.result or {}) do table.insert(actions, a) end
  end
  emit('codeActions', vim.tbl_map(function(a) return a.title end, actions))

  local chosen = nil
  for _, a in ipairs(actions) do
    if ca.title == nil or ca.title == vim.NIL or a.title:find(ca.title, 1, true) then chosen = a; break end
  end
  if not chosen then return fail('no code action containing "' .. tostring(ca.title) .. '"') end
  emit('applied', chosen.title)

  local client = vim.lsp.get_client_by_id(client_id)
  if not chosen.edit and not chosen.command then
    local resolved = client.request_sync('codeAction/resolve', chosen, cfg.timeoutMs, buf)
    if not resolved or resolved.err then return fail('codeAction/resolve failed: ' .. vim.inspect(resolved)) end
    chosen = resolved.result
  end
  local before = publishes[uri] or 0
  local changedtick = vim.api.nvim_buf_get_changedtick(buf)
  if chosen.edit then vim.lsp.util.apply_workspace_edit(chosen.edit, 'utf-16') end
  if chosen.command then
    local cmd = type(chosen.command) == 'table' and chosen.command or chosen
    local r = client.request_sync('workspace/executeCommand', { command = cmd.command, arguments = cmd.arguments }, cfg.timeoutMs, buf)
    if not r or r.err then return fail('executeCommand failed: ' .. vim.inspect(r)) end
    -- the server's workspace/applyEdit is applied by Neovim's default handler
    vim.wait(cfg.timeoutMs, function() return vim.api.nvim_buf_get_changedtick(buf) ~= changedtick end, 10)
  end
  emit('textAfter', table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n'))

  -- The edit went to the server as didChange; wait for its next publish.
  local got = vim.wait(cfg.timeoutMs, function() return exited ~= nil or (publishes[uri] or 0) > before end, 10)
  if exited then return fail('language server exited after the edit: ' .. vim.inspect(exited)) end
  if not got then return fail('no publishDiagnostics after the edit within ' .. cfg.timeoutMs .. ' ms') end
  emit('diagnosticsAfter', raw[uri])
end

local ok, err = xpcall(main, debug.traceback)
if not ok then return fail(err) end
-- Orderly LSP shutdown; the node side kills the process group if the server ignores it.
vim.lsp.stop_client(vim.lsp.get_active_clients())
vim.wait(2000, function() return exited ~= nil end, 10)
emit('done', true)
vim.cmd('qall!')
`;

/**
 * Opens `file` in headless Neovim with the LSP server `serverCmd`, waits for its diagnostics and, if asked,
 * requests code actions on the first (or `diagnosticIndex`) diagnostic, applies the one whose title contains
 * `codeAction.title` (edit, command or codeAction/resolve) and waits for the next diagnostics.
 * Throws, with nvim's output, when the Lua script failed.
 * @param {{ serverCmd: string[], rootDir: string, file: string, filetype?: string, settings?: object,
 *   initializationOptions?: object, minDiagnostics?: number, timeoutMs?: number,
 *   codeAction?: { title?: string, diagnosticIndex?: number, only?: string[] } }} opts
 * @returns {Promise<{ diagnostics: object[], nvimDiagnostics: object[], codeActions?: string[], applied?: string,
 *   textAfter?: string, diagnosticsAfter?: object[], durationMs: number, stderr: string, leftovers: number[] }>}
 */
export async function runNeovimLsp({
  serverCmd,
  rootDir,
  file,
  filetype = 'c',
  settings = {},
  initializationOptions = {},
  minDiagnostics = 1,
  timeoutMs = 10_000,
  codeAction = null,
}) {
  if (!nvimVersion()) throw new Error(`${NVIM} is not installed (Debian package neovim; node scripts/e2e-setup.mjs installs it)`);
  const root = resolve(rootDir);
  const abs = isAbsolute(file) ? file : join(root, file);
  if (!existsSync(abs)) throw new Error(`no such file: ${abs}`);
  const cfgDir = mkdtempSync(join(tmpdir(), 'e2e-nvim-cfg-'));
  const cfgFile = join(cfgDir, 'cfg.json');
  writeFileSync(cfgFile, JSON.stringify({ cmd: serverCmd, rootDir: root, file: abs, filetype, settings, initializationOptions, minDiagnostics, timeoutMs, codeAction }));
  try {
    const r = await runNvimLua(`E2E_CFG = ${luaString(cfgFile)}\n${SCENARIO_LUA}`, { cwd: root, timeout: timeoutMs * 3 + 10_000 });
    const byKind = Object.fromEntries(r.results.map((x) => [x.kind, x.value]));
    if (r.code !== 0 || byKind.error || !byKind.done) {
      throw new Error(`nvim LSP scenario failed (exit ${r.code}${r.signal ? ` ${r.signal}` : ''}): ${byKind.error ?? 'no result'}\nstderr: ${r.stderr}\nstdout: ${r.stdout}`);
    }
    return {
      diagnostics: byKind.diagnostics ?? [],
      nvimDiagnostics: byKind.nvimDiagnostics ?? [],
      codeActions: byKind.codeActions,
      applied: byKind.applied,
      textAfter: byKind.textAfter,
      diagnosticsAfter: byKind.diagnosticsAfter,
      durationMs: r.durationMs,
      stderr: r.stderr,
      leftovers: r.leftovers,
    };
  } finally {
    rmSync(cfgDir, { recursive: true, force: true });
  }
}
