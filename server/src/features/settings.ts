// Settings from the client: workspace/configuration (section "notifierAudit"), initializationOptions or didChangeConfiguration; validated with clear messages.
import type { Connection } from 'vscode-languageserver';
import { normalizeSettings, type Settings } from '../config';

export const SECTION = 'notifierAudit';

/** Keeps only the keys the server knows (VS Code's configuration objects can carry extra members) and drops nulls that mean "unset". */
function plain(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const o = JSON.parse(JSON.stringify(raw)) as Record<string, unknown>;
  // A nested {notifierAudit: {...}} (what some clients send in didChangeConfiguration) is unwrapped.
  if (o[SECTION] && typeof o[SECTION] === 'object') return plain(o[SECTION]);
  return o;
}

/** Normalises raw settings and reports each problem to the user once (warning message + log). */
export function applySettings(conn: Connection, raw: unknown): Settings {
  const { settings, problems } = normalizeSettings(plain(raw));
  if (problems.length) {
    const text = `MMU Notifier Audit settings: ${problems.join('; ')}. Those values fall back to their defaults.`;
    conn.console.warn(text);
    void conn.window.showWarningMessage(text);
  }
  return settings;
}

export async function pullSettings(conn: Connection): Promise<unknown> {
  try {
    return await conn.workspace.getConfiguration({ section: SECTION });
  } catch (e) {
    conn.console.warn(`cannot read settings: ${(e as Error).message}`);
    return undefined;
  }
}
