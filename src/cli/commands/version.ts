// plumb version: laid out like `docker version`, with the host (kernel and
// iptables backend) where Docker shows its daemon, since plumb has none.
import type { Command } from 'commander';
import { arch, platform, version as nodeVersion } from 'node:process';
import { DOCKER_API_VERSION, hostVersions } from '../../engine/system/version.js';
import { goStruct } from '../format/json.js';
import { renderTemplate } from '../format/template.js';
import { out } from '../output.js';

export function versionReport(plumbVersion: string, host: { kernel: string; iptables: string }) {
  return {
    Client: goStruct({
      Platform: goStruct({ Name: 'plumb' }),
      Version: plumbVersion,
      ApiVersion: DOCKER_API_VERSION,
      NodeVersion: nodeVersion,
      Os: platform,
      // Docker's GOARCH words: amd64 where Node says x64.
      Arch: arch === 'x64' ? 'amd64' : arch,
    }),
    Server: goStruct({
      KernelVersion: host.kernel,
      Iptables: host.iptables,
      Daemon: 'none',
    }),
  };
}

export function versionText(r: ReturnType<typeof versionReport>): string {
  const row = (k: string, v: string) => ` ${`${k}:`.padEnd(18)} ${v}`;
  return [
    'Client: plumb',
    row('Version', r.Client.Version),
    row('API version', `${r.Client.ApiVersion} (the Docker Engine API whose behaviour plumb follows)`),
    row('Node.js version', r.Client.NodeVersion),
    row('OS/Arch', `${r.Client.Os}/${r.Client.Arch}`),
    '',
    'Host (plumb has no daemon: it changes the kernel directly):',
    row('Kernel version', r.Server.KernelVersion),
    row('iptables', r.Server.Iptables),
  ].join('\n');
}

export function makeVersion(plumbVersion: string) {
  return async (o: { format?: string }, _cmd: Command): Promise<number> => {
    const report = versionReport(plumbVersion, await hostVersions());
    if (o.format) process.stdout.write(renderTemplate(o.format, report));
    else out(versionText(report));
    return 0;
  };
}
