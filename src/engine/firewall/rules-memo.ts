// The host's rules as iptables-save printed them, remembered with the
// nf_tables generation they belong to, so an operation whose host has not
// changed since plumb's last apply needs no `iptables-save` process to know
// them (a process, ~5-10 ms, on every `network create`, `network rm`,
// `run -p`, `rm -f`...).
//
// Why it is exact: the kernel bumps the generation on every committed change
// to any nf_tables ruleset of the namespace, whoever makes it (iptables-nft,
// nft, firewalld), and iptables-restore commits one batch per table it names.
// After an apply that took the generation from g to exactly g + (tables in
// the text), nobody else changed anything in between, so the rules are the
// ones before with the text applied (firewall/simulate.ts follows every line
// plumb's updates use; a text it cannot follow line by line is not memorised).
// A later operation that finds the generation still there uses the memo; any
// other number (another program's change, a reboot, a failed or partial apply,
// a crash between the apply and the memo) sends it back to iptables-save.
//
// Only with the nf_tables backend (the legacy one does not bump the
// generation) and only in plumb's own namespace. The memo lives in the run
// directory (gone at reboot), written after each apply by whoever holds the
// store lock; it names the boot and the namespace it was taken in.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { iptablesBackend, restoreCommits } from '../../kernel/iptables.js';
import { netnsIdentity, nftablesGeneration } from '../../kernel/nftables-generation.js';

interface Memo {
  identity: string;
  generation: number;
  rules: string;
}

export const RULES_MEMO_FILE = 'iptables-memo.json';

let nftBackend: Promise<boolean> | undefined;
/** Whether iptables is the nf_tables variant (decided once per process, without starting a program). */
function usesNftables(): Promise<boolean> {
  nftBackend ??= iptablesBackend().then((b) => b === 'nf_tables');
  return nftBackend;
}

/**
 * True when the rules after `text` can be computed from `before` exactly as
 * iptables-save would print them: every line is one simulateRestore follows,
 * and every table it names exists already (a table iptables-nft creates comes
 * with built-in chains the text does not name; the next operation reads them).
 */
function followsExactly(sim: Simulation, before: string, text: string): boolean {
  const tables = new Set([...before.matchAll(/^\*(\S+)/gm)].map((m) => m[1]));
  return sim.simulatesExactly(text) && [...text.matchAll(/^\*(\S+)/gm)].every((m) => tables.has(m[1]));
}

type Simulation = typeof import('../../firewall/simulate.js');
/**
 * The rule simulation (and with it the rule parser and the address library),
 * loaded by the first apply: every command makes a memo with its context,
 * and those that never apply rules (ps, port, inspect) need none of it.
 */
const simulation = (): Promise<Simulation> => import('../../firewall/simulate.js');

export class RulesMemo {
  /** What this process knows: rules read or memorised, and their generation. */
  private known?: Memo;
  private fromFile = false;

  constructor(private readonly runDir: string) {}

  private get file(): string {
    return join(this.runDir, RULES_MEMO_FILE);
  }

  private loadFile(): Memo | undefined {
    if (this.fromFile) return undefined;
    this.fromFile = true;
    try {
      const memo = JSON.parse(readFileSync(this.file, 'utf8')) as Memo;
      return typeof memo.identity === 'string' && typeof memo.generation === 'number' && typeof memo.rules === 'string' ? memo : undefined;
    } catch {
      return undefined;
    }
  }

  /** The generation now and where it belongs, when memorising is possible here at all. */
  private async now(): Promise<{ identity: string; generation: number } | undefined> {
    if (!(await usesNftables())) return undefined;
    const identity = netnsIdentity();
    const generation = nftablesGeneration();
    return identity !== undefined && generation !== undefined ? { identity, generation } : undefined;
  }

  /**
   * The host's rules: the memo's when the generation still matches it, else
   * `read()` (iptables-save), remembered with the generation seen before it.
   */
  async rules(read: () => Promise<string>): Promise<string> {
    const now = await this.now();
    if (now) {
      const memo = this.known ?? this.loadFile();
      if (memo && memo.identity === now.identity && memo.generation === now.generation) {
        this.known = memo;
        return memo.rules;
      }
    }
    const rules = await read();
    // Read after the generation: a change in between leaves the memo behind the kernel, and the next check drops it.
    this.known = now ? { ...now, rules } : undefined;
    return rules;
  }

  /**
   * Runs `apply` (one iptables-restore of `text`) and memorises the rules it
   * leaves when nothing else can have changed them meanwhile. `text` is not
   * memorised unless the rules before it are known at the generation it starts from.
   */
  async applying(text: string, apply: () => Promise<void>): Promise<void> {
    const before = this.known;
    this.known = undefined;
    const start = before ? await this.now() : undefined;
    const sim = before && start ? await simulation() : undefined;
    const exact = !!(sim && before && start && start.identity === before.identity && start.generation === before.generation && followsExactly(sim, before.rules, text));
    await apply();
    if (!exact) return;
    const end = await this.now();
    if (!end || end.identity !== before!.identity || end.generation !== ((before!.generation + restoreCommits(text)) >>> 0)) return;
    this.known = { ...end, rules: sim!.simulateRestore(before!.rules, text) };
    this.store(this.known);
  }

  private store(memo: Memo): void {
    try {
      const tmp = `${this.file}.${process.pid}`;
      writeFileSync(tmp, JSON.stringify(memo), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // A memo that cannot be written only means the next operation reads the rules.
    }
  }
}
