// Host-namespace settings a bridge network needs, changed once and remembered
// in the store so `plumb system reset` can put them back. Docker does the same:
// ip_forward=1 (and the FORWARD policy to DROP when it had to turn forwarding
// on), bridge-nf-call-iptables=1 so bridged traffic meets the filter table.
import { readSysctl, setSysctl } from '../../kernel/sysctl.js';
import type { Context } from '../core/context.js';
import type { StoreData } from '../../store/model.js';

const WANTED: Array<{ key: string; value: string; why: string }> = [
  { key: 'net.ipv4.ip_forward', value: '1', why: 'let the host route packets between container bridges and its uplink' },
  {
    key: 'net.bridge.bridge-nf-call-iptables',
    value: '1',
    why: 'make traffic switched inside a bridge pass through iptables, so icc=false and isolation rules apply',
  },
];

/** Returns true when ip_forward had to be turned on (the caller then sets FORWARD's policy to DROP). */
export function ensureHostSysctls(ctx: Context, data: StoreData): boolean {
  let forwardingTurnedOn = false;
  for (const w of WANTED) {
    const current = readSysctl(ctx.hostNs(), w.key);
    if (current === undefined || current === w.value) continue;
    // A dry run leaves the kernel as it was: what this operation already set on paper is set.
    if (ctx.dryRun && ctx.journal.ops.some((op) => op.kind === 'sysctl' && op.ns === null && op.key === w.key && op.value === w.value)) continue;
    setSysctl(ctx.journal, ctx.hostNs(), w.key, w.value, w.why);
    if (!data.sysctls.some((s) => s.key === w.key)) data.sysctls.push({ key: w.key, original: current });
    if (w.key === 'net.ipv4.ip_forward') forwardingTurnedOn = true;
  }
  return forwardingTurnedOn;
}

/** Puts back every host sysctl plumb changed (system reset). */
export function restoreHostSysctls(ctx: Context, data: StoreData): void {
  for (const s of data.sysctls.splice(0)) {
    setSysctl(ctx.journal, ctx.hostNs(), s.key, s.original, `restore ${s.key} to its value before plumb`);
  }
}
