// Set-up that may install packages (code-server, chromium, neovim) runs once before a file's tests; each test then
// asks the gate: it skips, with the reason printed, only when apt itself is unavailable, and fails on any other
// set-up error.
export function setupGate(setup) {
  let error;
  return {
    /** Runs the set-up, keeping its error for the tests; returns what the set-up returned. */
    run() {
      try {
        return setup();
      } catch (err) {
        error = err;
        return undefined;
      }
    },
    /** True when the set-up succeeded; otherwise skips `t` (apt unavailable) or throws the set-up error. */
    ready(t) {
      if (!error) return true;
      if (!error.aptUnavailable) throw error;
      process.stderr.write(`[e2e] SKIP: ${error.message}\n`);
      t.skip(error.message);
      return false;
    },
  };
}
