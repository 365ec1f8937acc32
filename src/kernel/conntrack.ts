// Connection tracking entries (`conntrack -L`), decoded into the original and
// the reply direction: an entry made before a DNAT rule existed keeps steering
// its flow past the rule, which is why diagnosis needs to see them.
import { runIn } from './programs.js';
import type { Netns } from './netns.js';

export interface Tuple {
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
}

export interface ConntrackEntry {
  proto: string;
  original: Tuple;
  reply: Tuple;
  /** [UNREPLIED], [ASSURED], ... without brackets, and the TCP state if any. */
  flags: string[];
  text: string;
}

export function parseConntrack(output: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of output.split('\n')) {
    const m = /^(tcp|udp|icmp)\s+\d+\s+/.exec(line);
    if (!m) continue;
    const tuples: Tuple[] = [];
    let cur: Partial<Tuple> | undefined;
    for (const tok of line.split(/\s+/)) {
      const kv = /^(src|dst|sport|dport)=(.+)$/.exec(tok);
      if (!kv) continue;
      if (kv[1] === 'src') {
        cur = { src: kv[2] };
        tuples.push(cur as Tuple);
      } else if (cur) {
        if (kv[1] === 'dst') cur.dst = kv[2];
        else cur[kv[1] as 'sport' | 'dport'] = Number(kv[2]);
      }
    }
    if (tuples.length < 2) continue;
    const flags = [...line.matchAll(/\[([A-Z]+)\]/g)].map((f) => f[1]!);
    const state = /^\w+\s+\d+\s+\d+\s+([A-Z_]+)\s/.exec(line)?.[1];
    if (state) flags.push(state);
    out.push({ proto: m[1]!, original: tuples[0]!, reply: tuples[1]!, flags, text: line.trim() });
  }
  return out;
}

/** Entries of one protocol whose original destination port is `dport` (all when conntrack is missing or empty). */
export async function conntrackEntries(ns: Netns, proto: 'tcp' | 'udp', dport: number): Promise<ConntrackEntry[]> {
  const r = await runIn(ns, ['conntrack', '-L', '-p', proto, '--orig-port-dst', String(dport)], { timeoutMs: 5000 });
  if (r.code !== 0) return [];
  return parseConntrack(r.stdout);
}
