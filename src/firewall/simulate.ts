// What the kernel's rules would be after an `iptables-restore --noflush`,
// computed without a kernel. A dry run changes nothing, yet one command may
// apply the firewall twice (the default bridge's rules, then the command's
// own); the second diff must be taken against what the first would have left,
// or the printed script would add the same jumps twice when it is replayed.
// Pure: `iptables-save` text in, `iptables-save` text out.
import { tokenize } from './save.js';

/** Lines simulateRestore follows exactly: table headers, chain declarations, -A, -I, -D, COMMIT, comments. */
const FOLLOWED = /^(\*\S+|:\S+ \S+( \[\d+:\d+\])?|-[AID] \S+ .*|COMMIT|#.*|)$/;

/** True when simulateRestore knows every line of `restoreText` (no -X, -F, -P, -R, -Z...). */
export function simulatesExactly(restoreText: string): boolean {
  return restoreText.split('\n').every((raw) => FOLLOWED.test(raw.trim()));
}

/** A saved rule as printed after "-A CHAIN ", its tokens worked out only when a -D needs them. */
interface Line {
  text: string;
  key?: string;
}

interface Table {
  chains: Map<string, string>;
  rules: Map<string, Line[]>;
}

const keyOf = (l: Line): string => (l.key ??= tokenize(l.text).join('\0'));

/** The text after the first `n` blank-separated words of `line`. */
function after(line: string, n: number): string {
  let i = 0;
  for (let w = 0; w < n; w++) {
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
  }
  return line.slice(i);
}

/**
 * Applies the lines of a restore text (`:CHAIN`, `-A`, `-I CHAIN [n]`, `-D CHAIN rule`) to a saved ruleset.
 * Rules it does not touch keep their text as saved: a thousand-rule dump is
 * copied line by line, not parsed and printed again.
 */
export function simulateRestore(saveText: string, restoreText: string): string {
  const tables = new Map<string, Table>();
  const tableOf = (name: string): Table => {
    let t = tables.get(name);
    if (!t) {
      t = { chains: new Map(), rules: new Map() };
      tables.set(name, t);
    }
    return t;
  };
  const rulesOf = (t: Table, chain: string): Line[] => {
    let r = t.rules.get(chain);
    if (!r) {
      r = [];
      t.rules.set(chain, r);
    }
    return r;
  };
  let current: Table | undefined;
  for (const raw of saveText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) current = tableOf(line.slice(1));
    else if (line === 'COMMIT') current = undefined;
    else if (current && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (name) current.chains.set(name, policy ?? '-');
    } else if (current && line.startsWith('-A ')) {
      const chain = line.slice(3).split(/[ \t]/, 1)[0]!;
      rulesOf(current, chain).push({ text: after(line, 2) });
    }
  }
  current = undefined;
  for (const raw of restoreText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = tableOf(line.slice(1));
    } else if (line === 'COMMIT') {
      current = undefined;
    } else if (current && line.startsWith(':')) {
      const [name, policy] = line.slice(1).split(/\s+/);
      if (!name) continue;
      current.chains.set(name, policy ?? '-');
      // Declaring a user chain in a --noflush restore empties it.
      if ((policy ?? '-') === '-') current.rules.set(name, []);
    } else if (current) {
      const [verb, chain, third] = line.split(/[ \t]+/, 3);
      if (!chain) continue;
      const rules = rulesOf(current, chain);
      if (verb === '-A') rules.push({ text: after(line, 2) });
      else if (verb === '-I') {
        const numbered = /^\d+$/.test(third ?? '');
        const at = numbered ? Number(third) - 1 : 0;
        rules.splice(Math.min(at, rules.length), 0, { text: after(line, numbered ? 3 : 2) });
      } else if (verb === '-D') {
        const key = keyOf({ text: after(line, 2) });
        const i = rules.findIndex((r) => keyOf(r) === key);
        if (i >= 0) rules.splice(i, 1);
      }
    }
  }
  let out = '';
  for (const [name, t] of tables) {
    out += `*${name}\n`;
    for (const [chain, policy] of t.chains) out += `:${chain} ${policy} [0:0]\n`;
    for (const [chain, rules] of t.rules) for (const r of rules) out += `-A ${chain} ${r.text}\n`;
    out += 'COMMIT\n';
  }
  return out;
}
