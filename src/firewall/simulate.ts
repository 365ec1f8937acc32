// What the kernel's rules would be after an `iptables-restore --noflush`,
// computed without a kernel. A dry run changes nothing, yet one command may
// apply the firewall twice (the default bridge's rules, then the command's
// own); the second diff must be taken against what the first would have left,
// or the printed script would add the same jumps twice when it is replayed.
// Pure: `iptables-save` text in, `iptables-save` text out.
import { formatArgs } from './render.js';
import { parseIptablesSave, tokenize, type SavedTable } from './save.js';

function table(tables: Map<string, SavedTable>, name: string): SavedTable {
  let t = tables.get(name);
  if (!t) {
    t = { chains: new Map(), rules: new Map() };
    tables.set(name, t);
  }
  return t;
}

/** Lines simulateRestore follows exactly: table headers, chain declarations, -A, -I, -D, COMMIT, comments. */
const FOLLOWED = /^(\*\S+|:\S+ \S+( \[\d+:\d+\])?|-[AID] \S+ .*|COMMIT|#.*|)$/;

/** True when simulateRestore knows every line of `restoreText` (no -X, -F, -P, -R, -Z...). */
export function simulatesExactly(restoreText: string): boolean {
  return restoreText.split('\n').every((raw) => FOLLOWED.test(raw.trim()));
}

/** Applies the lines of a restore text (`:CHAIN`, `-A`, `-I CHAIN [n]`, `-D CHAIN rule`) to a saved ruleset. */
export function simulateRestore(saveText: string, restoreText: string): string {
  const tables = parseIptablesSave(saveText);
  let current: SavedTable | undefined;
  for (const raw of restoreText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = table(tables, line.slice(1));
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name) continue;
      current.chains.set(name, policy ?? '-');
      // Declaring a user chain in a --noflush restore empties it.
      if ((policy ?? '-') === '-') current.rules.set(name, []);
    } else if (current) {
      const [verb, chain, ...rest] = tokenize(line);
      if (!chain) continue;
      const rules = current.rules.get(chain) ?? [];
      current.rules.set(chain, rules);
      if (verb === '-A') rules.push(rest);
      else if (verb === '-I') {
        const at = /^\d+$/.test(rest[0] ?? '') ? Number(rest.shift()) - 1 : 0;
        rules.splice(Math.min(at, rules.length), 0, rest);
      } else if (verb === '-D') {
        const key = rest.join('\0');
        const i = rules.findIndex((r) => r.join('\0') === key);
        if (i >= 0) rules.splice(i, 1);
      }
    }
  }
  let out = '';
  for (const [name, t] of tables) {
    out += `*${name}\n`;
    for (const [chain, policy] of t.chains) out += `:${chain} ${policy} [0:0]\n`;
    for (const [chain, rules] of t.rules) for (const r of rules) out += `-A ${chain} ${formatArgs(r)}\n`;
    out += 'COMMIT\n';
  }
  return out;
}
