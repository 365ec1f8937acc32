// The undo of a firewall apply. Rendering from the store cannot undo a step on
// its own (the store is rolled back in memory only as the undos run), so an
// operation takes a checkpoint of plumb's part of the firewall before its
// first apply, and a rollback puts exactly that back: plumb's chains with
// their old rules, no jumps that were not there, chains it added removed, the
// FORWARD policy as it was.
import { formatArgs, isPlumbChain, parseIptablesSave, TABLES } from '../../firewall/index.js';
import type { Context } from '../core/context.js';
import type { Transaction } from '../core/transaction.js';

const checkpointed = new WeakSet<Transaction>();

function targetsPlumb(args: readonly string[]): boolean {
  for (let i = 0; i < args.length - 1; i++) {
    if ((args[i] === '-j' || args[i] === '-g') && isPlumbChain(args[i + 1]!)) return true;
    if (args[i] === '--comment' && args[i + 1]!.startsWith('plumb:')) return true;
  }
  return false;
}

/** Restore text that turns plumb's part of `now` back into what it was in `before`; '' when they agree. */
export function restorePlumbFirewall(before: string, now: string): string {
  const b = parseIptablesSave(before);
  const n = parseIptablesSave(now);
  let text = '';
  for (const table of TABLES) {
    const bt = b.get(table);
    const nt = n.get(table);
    if (!nt) continue;
    const flush: string[] = [];
    const add: string[] = [];
    const del: string[] = [];
    const drop: string[] = [];
    for (const chain of [...nt.chains.keys()].filter(isPlumbChain).sort()) {
      const old = bt?.chains.has(chain) ? (bt.rules.get(chain) ?? []) : undefined;
      const cur = nt.rules.get(chain) ?? [];
      if (old && old.length === cur.length && old.every((r, i) => r.join('\0') === cur[i]!.join('\0'))) continue;
      flush.push(`:${chain} - [0:0]`);
      if (old) for (const r of old) add.push(`-A ${chain} ${formatArgs(r)}`);
      else drop.push(`-X ${chain}`);
    }
    for (const [chain, rules] of nt.rules) {
      if (isPlumbChain(chain)) continue;
      const had = new Map<string, number>();
      for (const r of bt?.rules.get(chain) ?? []) had.set(r.join('\0'), (had.get(r.join('\0')) ?? 0) + 1);
      for (const r of rules) {
        const k = r.join('\0');
        if ((had.get(k) ?? 0) > 0) had.set(k, had.get(k)! - 1);
        else if (targetsPlumb(r)) del.push(`-D ${chain} ${formatArgs(r)}`);
      }
    }
    const policies: string[] = [];
    for (const [chain, policy] of nt.chains) {
      if (isPlumbChain(chain) || policy === '-') continue;
      const was = bt?.chains.get(chain) ?? 'ACCEPT';
      if (was !== policy) policies.push(`:${chain} ${was} [0:0]`);
    }
    const lines = [...policies, ...flush, ...del, ...add, ...drop];
    if (lines.length) text += `*${table}\n${lines.join('\n')}\nCOMMIT\n`;
  }
  return text;
}

/**
 * Remembers plumb's firewall as it is now, once per transaction, and registers
 * the undo that brings it back. Call before the transaction's first firewall
 * apply. Returns the rules it read (undefined when it read none: a dry run,
 * or a second call), so a syncFirewall right after need not read them again.
 */
export async function firewallCheckpoint(ctx: Context, tx: Transaction): Promise<string | undefined> {
  if (ctx.dryRun || checkpointed.has(tx)) return undefined;
  checkpointed.add(tx);
  // What the kernel has (from the memo of plumb's last apply when nothing changed since); the undo reads the kernel itself.
  const before = await ctx.firewall.current(ctx.hostNs());
  tx.onRollback('firewall', async () => {
    const text = restorePlumbFirewall(before, await ctx.firewall.save(ctx.hostNs()));
    if (text) await ctx.firewall.apply(ctx.hostNs(), text, 'roll back: put plumb\'s firewall back as it was before this operation');
  });
  return before;
}
