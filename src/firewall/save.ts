// Reading `iptables-save` output: which of plumb's jumps from built-in chains
// are missing (after a firewall reload, or on first use), and how to remove
// everything plumb made (system reset).

import { BASE_OWNER, CHAIN, isPlumbChain, JUMPS, type Jump } from './chains.js';
import { commentText, formatArgs, specWithComment, TABLES } from './render.js';
import type { Table } from './types.js';

export interface SavedTable {
  /** Chain name -> policy ("-" for user chains), in dump order. */
  chains: Map<string, string>;
  /** Rules per chain, as argument lists after "-A CHAIN", quotes removed. */
  rules: Map<string, string[][]>;
}

/** Splits a saved rule line like a shell would for iptables-restore: spaces, "double quotes", backslash escapes. */
export function tokenize(line: string): string[] {
  // Most saved rules hold no quote and no backslash: split on blanks.
  if (!/["\\]/.test(line)) return line.split(/[ \t]+/).filter((t) => t !== '');
  const out: string[] = [];
  let cur = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inToken = true;
    } else if (c === '"') {
      quoted = !quoted;
      inToken = true;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += c;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

export function parseIptablesSave(text: string): Map<string, SavedTable> {
  const tables = new Map<string, SavedTable>();
  let current: SavedTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      current = tables.get(name) ?? { chains: new Map(), rules: new Map() };
      tables.set(name, current);
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name) current.chains.set(name, policy ?? '-');
    } else if (current && line.startsWith('-A ')) {
      const [, chain, ...args] = tokenize(line);
      if (!chain) continue;
      if (!current.rules.has(chain)) current.rules.set(chain, []);
      current.rules.get(chain)!.push(args);
    }
  }
  return tables;
}

/** A rule's arguments without its comment match, for comparing rules whatever their comment says. */
export function withoutComment(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-m' && args[i + 1] === 'comment' && args[i + 2] === '--comment') {
      i += 3; // skip "-m comment --comment TEXT"
      continue;
    }
    out.push(args[i]!);
  }
  return out;
}

function sameRule(a: readonly string[], b: readonly string[]): boolean {
  const x = withoutComment(a);
  const y = withoutComment(b);
  return x.length === y.length && x.every((t, i) => t === y[i]);
}

/** A line of restore text and the reason for it, shown above it under --explain. */
export interface ExplainedLine {
  line: string;
  why?: string;
}

/**
 * Of the jumps found (their rule indexes, -1 when absent, in list order), the
 * largest set already in order: they stay where they are; any other present
 * jump is out of order and is moved. So a PLUMB-USER someone moved to the
 * bottom is the one brought back up, not the two that kept their places.
 */
function longestInOrder(at: readonly number[]): Set<number> {
  const best: number[][] = [];
  for (let k = 0; k < at.length; k++) {
    best[k] = [];
    if (at[k]! < 0) continue;
    let prev: number[] = [];
    for (let j = 0; j < k; j++) if (at[j]! >= 0 && at[j]! < at[k]! && best[j]!.length > prev.length) prev = best[j]!;
    best[k] = [...prev, k];
  }
  return new Set(best.reduce((a, b) => (b.length > a.length ? b : a), []));
}

function jumpLinesForChain(existing: string[][], jumps: readonly Jump[]): ExplainedLine[] {
  const lines: ExplainedLine[] = [];
  const rules = existing.map((r) => [...r]);
  const full = jumps.map((j) => specWithComment(j.spec, BASE_OWNER));
  const keep = longestInOrder(full.map((f) => rules.findIndex((r) => sameRule(r, f))));
  // Out of order: deleted here, inserted again below where the order wants it.
  jumps.forEach((jump, k) => {
    const at = rules.findIndex((r) => sameRule(r, full[k]!));
    if (at < 0 || keep.has(k)) return;
    lines.push({ line: `-D ${jump.chain} ${formatArgs(rules[at]!)}`, why: `${jump.spec.at(-1)} is out of order in ${jump.chain}: it moves back (${jump.why})` });
    rules.splice(at, 1);
  });
  // Index of the previous wanted jump, so inserted ones land right after it and keep Docker's order.
  let previous = -1;
  jumps.forEach((jump, k) => {
    const found = rules.findIndex((r) => sameRule(r, full[k]!));
    if (found >= 0) {
      previous = found;
      return;
    }
    if (jump.mode === 'append') {
      lines.push({ line: `-A ${jump.chain} ${formatArgs(full[k]!)}`, why: jump.why });
      rules.push(full[k]!);
      previous = rules.length - 1;
    } else {
      const at = previous + 1;
      lines.push({ line: `-I ${jump.chain} ${at + 1} ${formatArgs(full[k]!)}`, why: jump.why });
      rules.splice(at, 0, full[k]!);
      previous = at;
    }
  });
  return lines;
}

/**
 * What plumb needs in built-in chains and `saved` lacks, per table: the jumps,
 * in Docker's order, and the PLUMB-USER chain (created once, never flushed).
 * Jumps that exist in another order are moved back into it (the order is part
 * of what plumb wants: PLUMB-USER must see packets first). The lines expect the
 * jumps' target chains to be declared earlier in the same restore.
 */
export function missingJumpLines(saved: Map<string, SavedTable>, table: Table): ExplainedLine[] {
  const current = saved.get(table);
  const lines: ExplainedLine[] = [];
  if (table === 'filter' && !current?.chains.has(CHAIN.user)) {
    lines.push({ line: `:${CHAIN.user} - [0:0]` });
    lines.push({
      line: `-A ${CHAIN.user} ${formatArgs(['-m', 'comment', '--comment', commentText(BASE_OWNER), '-j', 'RETURN'])}`,
      why: `${CHAIN.user} is the learner's own chain, like DOCKER-USER: plumb creates it once, with a RETURN, and never flushes it`,
    });
  }
  const jumps = JUMPS.filter((j) => j.table === table);
  const chains = [...new Set(jumps.map((j) => j.chain))];
  for (const chain of chains) {
    lines.push(...jumpLinesForChain(current?.rules.get(chain) ?? [], jumps.filter((j) => j.chain === chain)));
  }
  return lines;
}

/**
 * Restore text adding whatever plumb needs in built-in chains and is absent
 * from `saveText` (the current `iptables-save` output), see missingJumpLines.
 * Returns '' when nothing is missing. Meant to follow renderRuleset() in the
 * same `iptables-restore --noflush` input, which declares the target chains.
 */
export function missingJumps(saveText: string): string {
  const saved = parseIptablesSave(saveText);
  let text = '';
  for (const table of TABLES) {
    const lines = missingJumpLines(saved, table);
    if (lines.length > 0) text += `*${table}\n${lines.map((l) => l.line).join('\n')}\nCOMMIT\n`;
  }
  return text;
}

function targetOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length - 1; i++) if (args[i] === '-j' || args[i] === '-g') return args[i + 1];
  return undefined;
}

function isPlumbComment(args: readonly string[]): boolean {
  for (let i = 0; i < args.length - 1; i++) if (args[i] === '--comment' && args[i + 1]!.startsWith('plumb:')) return true;
  return false;
}

/**
 * Restore text (for `iptables-restore --noflush`) that removes every plumb
 * chain and every rule elsewhere that jumps to one or carries a plumb
 * comment. Flushes plumb's chains first, so references between them vanish
 * before `-X`. Returns '' when the dump holds nothing of plumb's.
 */
export function removeAll(saveText: string): string {
  const saved = parseIptablesSave(saveText);
  let text = '';
  for (const [table, t] of saved) {
    const ours = [...t.chains.keys()].filter(isPlumbChain).sort();
    const deletes: string[] = [];
    for (const [chain, rules] of t.rules) {
      if (isPlumbChain(chain)) continue;
      for (const args of rules) {
        const target = targetOf(args);
        if ((target && isPlumbChain(target)) || isPlumbComment(args)) deletes.push(`-D ${chain} ${formatArgs(args)}`);
      }
    }
    if (ours.length === 0 && deletes.length === 0) continue;
    text += `*${table}\n`;
    for (const chain of ours) text += `:${chain} - [0:0]\n`;
    for (const line of deletes) text += `${line}\n`;
    for (const chain of ours) text += `-X ${chain}\n`;
    text += 'COMMIT\n';
  }
  return text;
}
