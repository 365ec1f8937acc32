// plumb system gc: repairs both ways. It removes what plumb made but nothing
// owns any more (what a crash in the middle of `run` leaves), and re-creates
// what the store says should exist but the kernel lacks (rules wiped by
// `iptables -F` or a firewall reload, a bridge someone deleted, an address
// gone). Each repair is an ordinary journaled kernel change, so --explain and
// --dry-run show them. Running it again finds nothing to do.
import { CHAIN, forwardPolicyOf, forwardPolicyText, parseIptablesSave, userChainReturnText } from '../../firewall/index.js';
import { readSysctl, setSysctl } from '../../kernel/sysctl.js';
import { traitsOf } from '../../drivers/traits.js';
import type { StoreData } from '../../store/model.js';
import { findLeftovers, findProblems, formatFinding, interruptedRemovals, type Finding } from './check.js';
import { finishRemoval } from '../containers/lifecycle.js';
import { reapExited } from '../containers/teardown.js';
import type { Context } from '../core/context.js';
import { syncFirewall } from '../firewall/sync.js';
import { ensureHostSysctls } from '../networks/host-setup.js';
import { readSnapshot } from './snapshot.js';
import { Transaction } from '../core/transaction.js';

export interface GcResult {
  /** What was found and repaired, one line each. */
  repaired: string[];
  /** What is still wrong afterwards. */
  remaining: string[];
}

/** How many times gc looks again after repairing. */
const GC_ROUNDS = 3;

export async function checkHost(ctx: Context): Promise<string[]> {
  const data = ctx.store.read();
  const found = await findProblems(ctx, data);
  return found.map(formatFinding);
}

export async function collectGarbage(ctx: Context): Promise<GcResult> {
  return ctx.store.locked(async (data, commit) => {
    const repaired: string[] = [];
    const failed: string[] = [];
    // Removals cut short are finished first: nothing else about those containers needs repair.
    for (const c of interruptedRemovals(ctx, data)) {
      const line = `container ${c.name}: its removal (rm) was cut short`;
      try {
        await finishRemoval(ctx, data, c);
        repaired.push(line);
      } catch (err) {
        failed.push(`${line}: repair failed: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    // Containers whose process ended are torn down next, as any command would.
    await reapExited(ctx, data, 'all');
    await adoptSettingsOfCrashedRuns(ctx, data);
    // One repair can reveal the next (a leftover veth removed takes a wrong default route with it):
    // look again, a few rounds at most, trying each finding once.
    const tried = new Set<string>();
    for (let round = 0; round < GC_ROUNDS; round++) {
      const found = (await findProblems(ctx, data)).filter((f) => (f.fix || f.fixKey) && !tried.has(formatFinding(f)));
      if (!found.length) break;
      const shared = new Set<string>();
      for (const f of found) {
        tried.add(formatFinding(f));
        try {
          if (f.fixKey) {
            if (!shared.has(f.fixKey)) await sharedFix(ctx, data, f.fixKey);
            shared.add(f.fixKey);
          } else {
            await f.fix!();
          }
          repaired.push(formatFinding(f));
        } catch (err) {
          failed.push(`${formatFinding(f)}: repair failed: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      commit();
      if (ctx.dryRun) break;
    }
    commit();
    if (ctx.dryRun) return { repaired, remaining: failed };
    const after = (await findProblems(ctx, data)).map(formatFinding);
    return { repaired, remaining: [...failed, ...after.filter((l) => !failed.some((x) => x.startsWith(l)))] };
  });
}

async function sharedFix(ctx: Context, data: StoreData, key: string): Promise<void> {
  if (key === 'sysctls') {
    if (ensureHostSysctls(ctx, data) && data.forwardPolicyBefore === undefined) data.forwardPolicyBefore = 'pending';
    return;
  }
  if (key === 'firewall') {
    await Transaction.run('gc', (tx) => syncFirewall(ctx, data, tx, 'repair the firewall: re-render every plumb chain from the store'));
    // PLUMB-USER is the learner's chain and is never flushed; refill it only when a flush emptied it.
    const filter = parseIptablesSave(await ctx.firewall.save(ctx.hostNs(), 'filter')).get('filter');
    if (filter?.chains.has(CHAIN.user) && !filter.rules.get(CHAIN.user)?.length) {
      await ctx.firewall.apply(ctx.hostNs(), userChainReturnText(), `give ${CHAIN.user} back its RETURN rule`);
    }
  }
}

/**
 * A crash can change a host sysctl or the FORWARD policy before the store
 * records the original value. The snapshot taken before plumb's first change
 * still knows it: record it now so `system reset` puts it back.
 */
async function adoptSettingsOfCrashedRuns(ctx: Context, data: StoreData): Promise<void> {
  const snap = readSnapshot(ctx.paths);
  if (!snap) return;
  const needed = Object.values(data.networks).some((n) => traitsOf(n).routesThroughHost);
  for (const [key, original] of Object.entries(snap.sysctls)) {
    if (data.sysctls.some((s) => s.key === key)) continue;
    const now = readSysctl(ctx.hostNs(), key);
    if (now === undefined || now === original) continue;
    if (needed) data.sysctls.push({ key, original });
    else setSysctl(ctx.journal, ctx.hostNs(), key, original, `put back ${key}: no plumb network needs it`);
  }
  if (data.forwardPolicyBefore !== undefined) return;
  const before = snap.iptables.find((l) => l.startsWith('filter :FORWARD '))?.split(' ')[2] ?? 'ACCEPT';
  const now = forwardPolicyOf(await ctx.firewall.save(ctx.hostNs(), 'filter'));
  if (now !== 'DROP' || before === 'DROP') return;
  if (needed) data.forwardPolicyBefore = before;
  else await ctx.firewall.apply(ctx.hostNs(), forwardPolicyText(before), 'put back the FORWARD policy: no plumb network needs DROP');
}

/** Removes what crashed operations left (system reset runs this before removing what the store knows). */
export async function removeLeftovers(ctx: Context, data: StoreData): Promise<string[]> {
  const removed: string[] = [];
  for (const f of await findLeftovers(ctx, data, await ctx.hostRtnl().links())) {
    await f.fix?.();
    removed.push(formatFinding(f));
  }
  return removed;
}

export type { Finding };
