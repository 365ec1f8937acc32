// From the rules the kernel has to the rules the store wants, changing as
// little as possible.
//
// Why not re-declare (flush) and refill every plumb chain each time, which is
// simpler and repairs anything? Measured with iptables 1.8.9 (nf_tables):
// adding rules costs little (~2 ms a restore), but a restore that deletes
// rules from a table, a flush included, waits one RCU grace period (~12 ms)
// per such table before it exits. Refilling the four chains a published port
// touches meant two of them, whatever the rule count. Publishing ports only
// adds rules, so an update that deletes nothing keeps it to a few ms.
//
// The update is made against the kernel's rules as `iptables-save` prints
// them (the renderer writes rules in the same form), so it repairs whatever
// went missing, as the full rewrite did: a chain that is absent is declared
// and filled; one whose rules differ gets the rules to delete (`-D` with the
// rule itself) and to insert at their place (`-I CHAIN n`, `-A` at the end);
// a chain that holds a rule twice, where deleting by rule is ambiguous, is
// declared again and refilled. Missing jumps from built-in chains are added
// in the same restore. With nothing saved (dry run) the text builds
// everything from scratch, the same rules renderRuleset() lists.

import { MANAGED_CHAINS } from './chains.js';
import { formatArgs, renderRuleLine, specWithComment, TABLES } from './render.js';
import { missingJumpLines, parseIptablesSave, type ExplainedLine, type SavedTable } from './save.js';
import type { Rule } from './types.js';

/** Above this many LCS cells a differing stretch is replaced as a whole (still correct, just not minimal). */
const MAX_LCS_CELLS = 250_000;

const key = (args: readonly string[]): string => args.join('\0');

/** Indexes of `have` and `want` that stay: a longest common subsequence, by rule text. */
function kept(have: readonly string[], want: readonly string[]): Array<[number, number]> {
  let start = 0;
  while (start < have.length && start < want.length && have[start] === want[start]) start++;
  let endH = have.length;
  let endW = want.length;
  while (endH > start && endW > start && have[endH - 1] === want[endW - 1]) {
    endH--;
    endW--;
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < start; i++) pairs.push([i, i]);
  const n = endH - start;
  const m = endW - start;
  if (n > 0 && m > 0 && n * m <= MAX_LCS_CELLS) {
    // lengths[i][j]: LCS of have[start+i..endH) and want[start+j..endW)
    const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lengths[i]![j] = have[start + i] === want[start + j] ? lengths[i + 1]![j + 1]! + 1 : Math.max(lengths[i + 1]![j]!, lengths[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (have[start + i] === want[start + j]) {
        pairs.push([start + i, start + j]);
        i++;
        j++;
      } else if (lengths[i + 1]![j]! >= lengths[i]![j + 1]!) {
        i++;
      } else {
        j++;
      }
    }
  }
  for (let k = 0; endH + k < have.length; k++) pairs.push([endH + k, endW + k]);
  return pairs;
}

function withdrawWhy(args: readonly string[]): string {
  const i = args.indexOf('--comment');
  const comment = i >= 0 ? (args[i + 1] ?? '') : '';
  return comment.startsWith('plumb: ')
    ? `withdraw "${comment}": the store no longer wants this rule`
    : 'not a rule plumb wrote, in a chain plumb owns: delete it';
}

interface ChainUpdate {
  declare: boolean;
  lines: ExplainedLine[];
}

function chainUpdate(chain: string, table: SavedTable | undefined, want: readonly Rule[]): ChainUpdate | undefined {
  // Lines are rendered only where they are written: with a thousand rules in a chain, most are kept.
  const line = (w: number) => renderRuleLine(want[w]!);
  const refill = (): ChainUpdate => ({ declare: true, lines: want.map((r, i) => ({ line: line(i), why: r.why })) });
  if (!table?.chains.has(chain)) return refill();
  const haveArgs = table.rules.get(chain) ?? [];
  const have = haveArgs.map(key);
  // The tokens iptables-save prints after "-A CHAIN" are the rule's spec with its comment (render.ts writes the same).
  const wanted = want.map((r) => key(specWithComment(r.spec, r.owner)));
  if (have.length === wanted.length && have.every((h, i) => h === wanted[i])) return undefined;
  if (new Set(have).size !== have.length) return refill();

  const pairs = kept(have, wanted);
  const keptHave = new Set(pairs.map(([h]) => h));
  const keptWant = new Set(pairs.map(([, w]) => w));
  const lines: ExplainedLine[] = [];
  for (let h = have.length - 1; h >= 0; h--) {
    if (!keptHave.has(h)) lines.push({ line: `-D ${chain} ${formatArgs(haveArgs[h]!)}`, why: withdrawWhy(haveArgs[h]!) });
  }
  // After the deletions the chain holds the kept rules in order; placing each
  // wanted rule at its final index, first to last, leaves exactly `want`.
  let length = pairs.length;
  for (let w = 0; w < wanted.length; w++) {
    if (keptWant.has(w)) continue;
    const text = line(w);
    lines.push({ line: w === length ? text : text.replace(/^-A (\S+) /, `-I $1 ${w + 1} `), why: want[w]!.why });
    length++;
  }
  return { declare: false, lines };
}

function render(lines: readonly ExplainedLine[]): string {
  let text = '';
  let last: string | undefined;
  for (const l of lines) {
    // A why shared by consecutive lines (a withdrawn network's rules) is said once, above the group.
    if (l.why !== undefined && l.why !== last) text += `# ${l.why.replace(/[\r\n]+/g, ' ')}\n`;
    last = l.why;
    text += `${l.line}\n`;
  }
  return text;
}

/**
 * Restore text (for `iptables-restore --noflush`) that turns plumb's chains as
 * `saveText` (an `iptables-save` dump; '' for "nothing exists") shows them into
 * `rules`, and adds missing jumps, with a `# why` line above each change.
 * iptables-restore skips comment lines, so what --explain shows is what runs.
 * '' when the kernel already agrees.
 */
export function updateText(rules: readonly Rule[], saveText: string): string {
  const saved = parseIptablesSave(saveText);
  const byChain = new Map<string, Rule[]>();
  for (const r of rules) {
    const k = `${r.table} ${r.chain}`;
    if (!byChain.has(k)) byChain.set(k, []);
    byChain.get(k)!.push(r);
  }
  let text = '';
  for (const table of TABLES) {
    const current = saved.get(table);
    // iptables-save lists user chains sorted by name; the text follows that order.
    const declared: string[] = [];
    const lines: ExplainedLine[] = [];
    for (const chain of [...MANAGED_CHAINS[table]].sort()) {
      const update = chainUpdate(chain, current, byChain.get(`${table} ${chain}`) ?? []);
      if (!update) continue;
      if (update.declare) declared.push(chain);
      lines.push(...update.lines);
    }
    for (const jump of missingJumpLines(saved, table)) {
      // restore text declares chains before any rule line
      if (jump.line.startsWith(':')) declared.push(jump.line.slice(1).split(' ')[0]!);
      else lines.push(jump);
    }
    if (declared.length === 0 && lines.length === 0) continue;
    text += `*${table}\n`;
    if (declared.length) {
      text += `# plumb's own chains: declaring one creates it, or empties it to be filled again\n`;
      for (const chain of declared) text += `:${chain} - [0:0]\n`;
    }
    text += `${render(lines)}COMMIT\n`;
  }
  return text;
}
