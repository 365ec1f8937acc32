// Which rules a packet meets in the kernel's iptables ruleset (read with
// iptables-save, plumb's rules and everyone else's), and what becomes of it.
// Only the matches plumb and learners commonly use are understood; a rule
// with a match this walker does not know is assumed to match and is marked
// uncertain, so a rule that may drop a packet is never hidden.
import { parseIptablesSave, type SavedTable } from '../firewall/save.js';
import { cidrContains } from './addresses.js';

export interface Packet {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | 'icmp';
  sport?: number;
  dport?: number;
  inIf?: string;
  outIf?: string;
  /** conntrack states the packet has: NEW for a first packet, plus DNAT after a destination rewrite, ESTABLISHED for replies. */
  ctstate: string[];
  /** The destination is one of the host's own addresses (addrtype LOCAL). */
  dstLocal?: boolean;
}

export interface MetRule {
  table: string;
  chain: string;
  /** 1-based position in the chain, as `iptables -L --line-numbers` counts. */
  position: number;
  args: string[];
  target?: string;
  comment?: string;
  uncertain: boolean;
}

export interface Verdict {
  /** ACCEPT, DROP, REJECT, or for nat: DNAT / SNAT / MASQUERADE / none (the chain let it through unchanged). */
  verdict: string;
  /** The rule that decided, absent when a policy did. */
  rule?: MetRule;
  /** Every rule that matched on the way, jumps included. */
  met: MetRule[];
  /** DNAT/SNAT target argument. */
  to?: string;
  /** A chain's policy decided (name of that chain). */
  policyOf?: string;
}

export type Ruleset = Map<string, SavedTable>;

export function parseRuleset(saveText: string): Ruleset {
  return parseIptablesSave(saveText);
}

export function ruleText(r: MetRule): string {
  return `-t ${r.table} -A ${r.chain} ${r.args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`;
}

function ifMatches(pattern: string, name: string | undefined): boolean {
  if (name === undefined) return false;
  if (pattern.endsWith('+')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

function portMatches(spec: string, port: number | undefined): boolean {
  if (port === undefined) return false;
  const [a, b] = spec.split(':');
  const lo = a === '' ? 0 : Number(a);
  const hi = b === undefined ? lo : b === '' ? 65535 : Number(b);
  return port >= lo && port <= hi;
}

function addrMatches(spec: string, ip: string): boolean {
  return spec.includes('/') ? cidrContains(spec, ip) : spec === ip;
}

interface Parsed {
  matches: boolean;
  uncertain: boolean;
  target?: string;
  targetArgs: Record<string, string>;
  comment?: string;
}

const KNOWN_MODULES = new Set(['tcp', 'udp', 'icmp', 'comment', 'conntrack', 'state', 'addrtype', 'multiport']);

/** Evaluates one rule's matches against the packet. */
export function evaluateRule(args: string[], p: Packet): Parsed {
  let matches = true;
  let uncertain = false;
  let target: string | undefined;
  const targetArgs: Record<string, string> = {};
  let comment: string | undefined;
  let negate = false;
  const test = (ok: boolean) => {
    if (negate ? ok : !ok) matches = false;
    negate = false;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1];
    if (target !== undefined) {
      if (a.startsWith('--') && v !== undefined) {
        targetArgs[a] = v;
        i++;
      }
      continue;
    }
    switch (a) {
      case '!':
        negate = true;
        break;
      case '-i':
        test(ifMatches(v!, p.inIf));
        i++;
        break;
      case '-o':
        test(ifMatches(v!, p.outIf));
        i++;
        break;
      case '-s':
        test(addrMatches(v!, p.src));
        i++;
        break;
      case '-d':
        test(addrMatches(v!, p.dst));
        i++;
        break;
      case '-p':
        test(v === 'all' || v === p.proto);
        i++;
        break;
      case '--dport':
      case '--dports':
        test(v!.split(',').some((s) => portMatches(s, p.dport)));
        i++;
        break;
      case '--sport':
      case '--sports':
        test(v!.split(',').some((s) => portMatches(s, p.sport)));
        i++;
        break;
      case '--ctstate':
      case '--state':
        test(v!.split(',').some((s) => p.ctstate.includes(s)));
        i++;
        break;
      case '--dst-type':
        test(v === 'LOCAL' ? !!p.dstLocal : !p.dstLocal);
        i++;
        break;
      case '--comment':
        comment = v;
        i++;
        break;
      case '-m':
        if (!KNOWN_MODULES.has(v!)) uncertain = true;
        i++;
        break;
      case '-j':
      case '-g':
        target = v;
        i++;
        break;
      default:
        // An option of a match this walker does not know (its value follows).
        if (a.startsWith('-')) {
          uncertain = true;
          if (v !== undefined && !v.startsWith('-')) i++;
        }
        negate = false;
    }
  }
  return { matches, uncertain, target, targetArgs, comment };
}

const TERMINAL = new Set(['ACCEPT', 'DROP', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT']);

/** Walks `chain` of `table` (a built-in chain) the way the kernel would, following jumps. */
export function walkChain(rules: Ruleset, table: string, chain: string, p: Packet): Verdict {
  const t = rules.get(table);
  const met: MetRule[] = [];
  const walk = (name: string, depth: number): Omit<Verdict, 'met'> | undefined => {
    if (depth > 16) return undefined;
    const list = t?.rules.get(name) ?? [];
    for (const [idx, args] of list.entries()) {
      const r = evaluateRule(args, p);
      if (!r.matches) continue;
      const rule: MetRule = { table, chain: name, position: idx + 1, args, target: r.target, comment: r.comment, uncertain: r.uncertain };
      if (!r.target) continue;
      met.push(rule);
      if (r.target === 'RETURN') return undefined;
      if (TERMINAL.has(r.target)) {
        return { verdict: r.target, rule, to: r.targetArgs['--to-destination'] ?? r.targetArgs['--to-source'] };
      }
      if (t?.chains.has(r.target)) {
        const inner = walk(r.target, depth + 1);
        if (inner) return inner;
      }
      // LOG, TRACE, MARK and other non-terminal targets: carry on.
    }
    return undefined;
  };
  const decided = walk(chain, 0);
  if (decided) return { ...decided, met };
  const policy = t?.chains.get(chain);
  // nat chains only rewrite; a raw or mangle policy may still drop.
  const verdict = table === 'nat' ? 'none' : policy && policy !== '-' && policy !== 'ACCEPT' ? policy : table === 'filter' ? 'ACCEPT' : 'none';
  return { verdict, met, policyOf: table !== 'nat' && verdict !== 'none' ? chain : undefined };
}
