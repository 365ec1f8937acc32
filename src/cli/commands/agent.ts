// plumb agent: the per-host overlay agent, in the foreground (for a service
// manager, or started detached by plumb itself when a container joins an overlay).
import type { Command } from 'commander';
import { globals, requireRoot } from '../output.js';

export async function agent(_o: unknown, cmd: Command): Promise<number> {
  requireRoot('plumb agent');
  const { runAgent } = await import('../../engine/overlay/agent.js');
  const { ExplainPrinter } = await import('../../explain/printer.js');
  // Every forwarding entry the agent writes is shown in its log as the bridge/ip command it amounts to.
  return runAgent({ root: globals(cmd).root, sinks: [new ExplainPrinter(process.stdout, { header: false })] });
}
