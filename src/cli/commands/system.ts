// plumb system info | reset
import type { Command } from 'commander';
import { openContext, out } from '../output.js';

export async function info(_o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb system info');
  try {
    const { probeKernel } = await import('../../kernel/probe.js');
    const facts = await probeKernel();
    const data = ctx.store.read();
    const yes = (b: boolean) => (b ? 'yes' : 'no');
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
      `Networks: ${Object.keys(data.networks).length}`,
      `Containers: ${Object.keys(data.containers).length} (${Object.values(data.containers).filter((c) => c.state === 'running').length} running)`,
    ];
    out(lines.filter((l) => !/^plumb: $/.test(l)).join('\n'));
    return 0;
  } finally {
    ctx.close();
  }
}

export async function reset(_o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb system reset');
  try {
    const { resetAll } = await import('../../engine/system.js');
    const removed = await resetAll(ctx);
    for (const r of removed) out(`removed ${r}`);
    return 0;
  } finally {
    ctx.close();
  }
}
