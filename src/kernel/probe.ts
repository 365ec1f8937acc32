// Facts about this machine for `plumb system info`. Link kinds are tested by
// really creating one of each inside a throwaway network namespace that exists
// only for the life of one `ip -batch` process (`unshare --net`), so nothing is
// ever created in plumb's own namespace and nothing can be left behind.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { iptablesVersion } from './iptables.js';
import { runProgram } from './runner.js';
import { sysctlPath } from './sysctl.js';

export type ProbedLinkKind = 'bridge' | 'veth' | 'vxlan' | 'macvlan';

export interface KernelFacts {
  linkKinds: Record<ProbedLinkKind, boolean>;
  /** `iptables --version` output, e.g. "iptables v1.8.9 (nf_tables)", or "missing". */
  iptables: string;
  /** net.ipv4.ip_forward of plumb's own namespace ("0"/"1"), or "unknown". */
  ipForward: string;
  root: boolean;
  /** Kernel release (uname -r). */
  kernel: string;
}

// -force: keep going after a failed line, so one missing module does not hide the others.
// macvlan needs an Ethernet parent: the veth if it exists, else the bridge.
const PROBE_BATCH = [
  'link add plbprobe-br type bridge',
  'link add plbprobe-va type veth peer name plbprobe-vb',
  'link add plbprobe-vx type vxlan id 42 dstport 4789',
  'link add plbprobe-mv link plbprobe-va type macvlan mode bridge',
  'link add plbprobe-mw link plbprobe-br type macvlan mode bridge',
  'link show',
  '',
].join('\n');

/** Parses `ip link show` output (one-line or not) into interface names (without the @peer suffix). */
export function linkNames(output: string): Set<string> {
  const names = new Set<string>();
  for (const line of output.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)[@:]/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

function probeLinkKinds(root: boolean): Promise<Record<ProbedLinkKind, boolean>> {
  const none = { bridge: false, veth: false, vxlan: false, macvlan: false };
  // Without root, a user namespace makes the probe possible where the kernel allows it.
  const unshareArgs = root ? ['--net'] : ['--user', '--map-root-user', '--net'];
  return runProgram(['unshare', ...unshareArgs, '--', 'ip', '-force', '-batch', '-'], { input: PROBE_BATCH, doing: 'probe link kinds' }).then(
    ({ stdout }) => {
      const names = linkNames(stdout);
      return {
        bridge: names.has('plbprobe-br'),
        veth: names.has('plbprobe-va'),
        vxlan: names.has('plbprobe-vx'),
        macvlan: names.has('plbprobe-mv') || names.has('plbprobe-mw'),
      };
    },
    () => none,
  );
}

export async function probeKernel(): Promise<KernelFacts> {
  const root = process.getuid?.() === 0;
  let ipForward = 'unknown';
  try {
    // The main thread is in plumb's own namespace outside namespace windows.
    ipForward = readFileSync(sysctlPath('net.ipv4.ip_forward'), 'utf8').trim();
  } catch {
    // keep "unknown"
  }
  const [linkKinds, iptables] = await Promise.all([probeLinkKinds(root), iptablesVersion()]);
  return { linkKinds, iptables: iptables ?? 'missing', ipForward, root, kernel: release() };
}
