// Text form of a CFG: one line per node with its outgoing edges; the oracle of the CFG fixture tests.
import type { Cfg } from './build';

export function printCfg(cfg: Cfg): string {
  const lines = [`function ${cfg.name}`];
  for (const n of cfg.nodes) {
    const edges = n.succ.map((e) => (e.kind === 'next' ? `n${e.to}` : `${e.kind}:n${e.to}`)).join(' ');
    const label = n.kind === 'entry' || n.kind === 'exit' ? '' : ` ${JSON.stringify(n.label)}`;
    const extra = n.noreturn ? ' noreturn' : '';
    lines.push(`  n${n.id} ${n.kind}${label}${extra}${edges ? ' -> ' + edges : ''}`);
  }
  return lines.join('\n');
}

/** Graphviz DOT form, for humans debugging a function. */
export function cfgToDot(cfg: Cfg): string {
  const esc = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const out = [`digraph "${esc(cfg.name)}" {`, '  node [shape=box fontname=monospace];'];
  for (const n of cfg.nodes) {
    out.push(`  n${n.id} [label="${esc(`${n.kind} L${n.line}\\n${n.label}`)}"${n.kind === 'cond' ? ' shape=diamond' : ''}];`);
    for (const e of n.succ) out.push(`  n${n.id} -> n${e.to}${e.kind !== 'next' ? ` [label="${e.kind}"]` : ''};`);
  }
  out.push('}');
  return out.join('\n');
}
