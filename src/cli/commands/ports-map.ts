// Docker's "Ports"/"PortBindings" maps: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "443/tcp": null}.
export function portsMap(
  bindings: Array<{ proto: string; containerPort: number; hostIp: string; hostPort: string }>,
  exposed: Array<{ proto: string; port: number }> = [],
): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const map: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const e of exposed) map[`${e.port}/${e.proto}`] = null;
  for (const b of bindings) {
    const key = `${b.containerPort}/${b.proto}`;
    (map[key] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort });
  }
  return map;
}
