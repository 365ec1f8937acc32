// plumb system info | reset
import type { Command } from 'commander';
import { openContext, out } from '../output.js';
import type { StoreSummary } from '../../engine/system/summary.js';

/** The counts as `docker info` lays them out: a total, then one indented line per kind. */
export function summaryLines(s: StoreSummary): string[] {
  return [
    `Containers: ${s.containers.total}`,
    ` Running: ${s.containers.running}`,
    ` Paused: ${s.containers.paused}`,
    ` Stopped: ${s.containers.stopped}`,
    `Networks: ${s.networks.total}`,
    ...s.networks.byDriver.map((d) => ` ${d.driver}: ${d.count}`),
  ];
}

export async function info(_o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb system info');
  try {
    const { systemInfo } = await import('../../engine/system/queries.js');
    const info = await systemInfo(ctx);
    const facts = info.kernel;
    const yes = (b: boolean) => (b ? 'yes' : 'no');
    const dns = info.resolver;
    const lines = [
      `plumb: ${process.env.npm_package_version ?? ''}`.trimEnd(),
      `Kernel: ${facts.kernel}`,
      `Link kinds: ${Object.entries(facts.linkKinds)
        .map(([k, v]) => `${k}=${yes(v)}`)
        .join(' ')}`,
      `iptables: ${facts.iptables}`,
      `ip_forward: ${facts.ipForward}`,
      `Running as root: ${yes(facts.root)}`,
      `State dir: ${ctx.paths.state}`,
      `Runtime dir: ${ctx.paths.run}`,
      `Namespaces registered in: ${ctx.paths.netnsNames}`,
      ...summaryLines(info.summary),
      dns
        ? `Embedded DNS: running (pid ${dns.pid}, udp+tcp port ${dns.port}, since ${dns.started})`
        : 'Embedded DNS: not running (starts with the first container on a user-defined network)',
    ];
    out(lines.filter((l) => !/^plumb: $/.test(l)).join('\n'));
    return 0;
  } finally {
    ctx.close();
  }
}

export async function reset(o: { verify?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb system reset');
  try {
    const { resetAndVerify } = await import('../../engine/system/reset.js');
    const { removed, differences } = await resetAndVerify(ctx);
    for (const r of removed) out(`removed ${r}`);
    if (!o.verify) return 0;
    if (!differences) {
      out('verify: no snapshot to compare with (plumb had not changed this host since its last reset)');
      return 0;
    }
    for (const d of differences) out(`verify: ${d}`);
    out(differences.length ? `verify: ${differences.length} difference(s) from the host before plumb` : 'verify: the host is as plumb found it');
    return differences.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}

/** system check: one line per difference between store and kernel; exit 1 when there is any. */
export async function check(_o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb system check');
  try {
    const { checkHost } = await import('../../engine/system/gc.js');
    const problems = await checkHost(ctx);
    for (const p of problems) out(p);
    if (!problems.length) out('ok: the kernel matches the store');
    return problems.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}

/** system gc: repairs, then says what it did and what (if anything) is still wrong. */
export async function gc(_o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb system gc');
  try {
    const { collectGarbage } = await import('../../engine/system/gc.js');
    const { repaired, remaining } = await collectGarbage(ctx);
    for (const r of repaired) out(r.startsWith('leftover: ') ? `removed ${r.slice('leftover: '.length)}` : `repaired ${r}`);
    for (const r of remaining) out(`still wrong: ${r}`);
    if (!repaired.length && !remaining.length) out('ok: nothing to repair');
    return remaining.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}
