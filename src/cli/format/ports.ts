// The PORTS column of `ps` and the lines of `port`, as Docker 20.10's CLI
// prints them.
//
// PORTS: the entries are sorted by container port, then host IP (as text),
// then host port, then protocol. An entry whose host port equals its
// container port (or that is only exposed) joins a run of consecutive ports
// with the same host IP and protocol, shown as one range
// (`0.0.0.0:8000-8002->8000-8002/tcp`, `7000-7002/udp`). Every other binding
// is listed on its own, after all the runs (`0.0.0.0:8080->80/tcp`).
// The 20.10 CLI writes an IPv6 host IP without brackets (`:::8080->80/tcp`);
// newer CLIs write `[::]:8080`, selectable with `bracketIPv6`.

export type Proto = 'tcp' | 'udp' | 'sctp';

/** A published port as the kernel has it: one host address and port. */
export interface PortBinding {
  proto: string;
  containerPort: number;
  /** The address bound on the host, as reported: '0.0.0.0', '::', '127.0.0.1'. */
  hostIp: string;
  hostPort: number;
}

/** A port the container exposes without publishing it. */
export interface ExposedPort {
  proto: string;
  port: number;
}

export interface PortDisplayOptions {
  /** Write IPv6 host addresses as `[::]:8080` (newer CLIs) instead of `:::8080` (20.10). */
  bracketIPv6?: boolean;
}

interface ApiPort {
  ip: string;
  privatePort: number;
  publicPort: number;
  type: string;
}

function hostAddr(ip: string, port: number | string, bracket: boolean): string {
  if (bracket && ip.includes(':')) return `[${ip}]:${port}`;
  return `${ip}:${port}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparePorts(a: ApiPort, b: ApiPort): number {
  return (
    a.privatePort - b.privatePort ||
    compareText(a.ip, b.ip) ||
    a.publicPort - b.publicPort ||
    compareText(a.type, b.type)
  );
}

/**
 * The PORTS column text, e.g. `0.0.0.0:8080->80/tcp, :::8080->80/tcp, 443/tcp`.
 * Exposed ports that also have a binding are shown only through the binding.
 */
export function displayablePorts(
  bindings: readonly PortBinding[],
  exposed: readonly ExposedPort[] = [],
  options: PortDisplayOptions = {},
): string {
  const bracket = options.bracketIPv6 ?? false;
  const published = new Set(bindings.map((b) => `${b.containerPort}/${b.proto}`));
  const ports: ApiPort[] = bindings.map((b) => ({
    ip: b.hostIp,
    privatePort: b.containerPort,
    publicPort: b.hostPort,
    type: b.proto,
  }));
  const seenExposed = new Set<string>();
  for (const e of exposed) {
    const key = `${e.port}/${e.proto}`;
    if (published.has(key) || seenExposed.has(key)) continue;
    seenExposed.add(key);
    ports.push({ ip: '', privatePort: e.port, publicPort: 0, type: e.proto });
  }
  ports.sort(comparePorts);

  interface Group {
    ip: string;
    type: string;
    first: number;
    last: number;
  }
  const formGroup = (g: Group): string => {
    const range = g.first === g.last ? `${g.first}` : `${g.first}-${g.last}`;
    const text = g.ip === '' ? range : `${hostAddr(g.ip, range, bracket)}->${range}`;
    return `${text}/${g.type}`;
  };

  const groups = new Map<string, Group>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const p of ports) {
    if (p.ip !== '' && p.publicPort !== p.privatePort) {
      hostMappings.push(`${hostAddr(p.ip, p.publicPort, bracket)}->${p.privatePort}/${p.type}`);
      continue;
    }
    const key = p.ip === '' ? p.type : `${p.ip}/${p.type}`;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { ip: p.ip, type: p.type, first: p.privatePort, last: p.privatePort });
      continue;
    }
    if (p.privatePort === group.last + 1) {
      group.last = p.privatePort;
      continue;
    }
    // a gap ends the run; the finished run is listed before the open ones.
    // Map.set on an existing key keeps its first-insertion position, which is
    // the order in which Docker lists the open runs.
    result.push(formGroup(group));
    groups.set(key, { ip: p.ip, type: p.type, first: p.privatePort, last: p.privatePort });
  }
  for (const g of groups.values()) result.push(formGroup(g));
  result.push(...hostMappings);
  return result.join(', ');
}

/** `80/tcp` */
export function portKey(port: number, proto: string): string {
  return `${port}/${proto}`;
}

/**
 * The lines of `docker port NAME`: `80/tcp -> 0.0.0.0:8080`, one per binding.
 * Ports are listed in the order their `port/proto` keys sort as text (as in
 * the recorded 20.10 output: `443/tcp` before `80/tcp`); the bindings of one
 * port keep the order given. Exposed-only ports print nothing.
 * Each line ends with '\n'; no bindings give ''.
 */
export function formatPortLines(bindings: readonly PortBinding[], options: PortDisplayOptions = {}): string {
  const bracket = options.bracketIPv6 ?? false;
  const byKey = new Map<string, PortBinding[]>();
  for (const b of bindings) {
    const key = portKey(b.containerPort, b.proto);
    const list = byKey.get(key);
    if (list) list.push(b);
    else byKey.set(key, [b]);
  }
  const keys = [...byKey.keys()].sort(compareText);
  let out = '';
  for (const key of keys) {
    for (const b of byKey.get(key)!) out += `${key} -> ${hostAddr(b.hostIp, b.hostPort, bracket)}\n`;
  }
  return out;
}

/**
 * Parses the PORT argument of `docker port NAME PORT`: `80`, `80/tcp`, `53/udp`.
 * Returns null when it is not a port (Docker then reports the error).
 */
export function parsePortArg(arg: string): { port: number; proto: string } | null {
  const m = /^(\d+)(?:\/([a-zA-Z]+))?$/.exec(arg);
  if (!m) return null;
  const port = Number(m[1]);
  if (port > 65535) return null;
  return { port, proto: (m[2] ?? 'tcp').toLowerCase() };
}

/**
 * `docker port NAME PORT`: one `hostIp:hostPort` line per binding of that
 * port, in the order given, or null when the port has no binding, in which
 * case the caller reports `noPublicPortError`.
 */
export function formatPortQuery(
  bindings: readonly PortBinding[],
  port: number,
  proto: string,
  options: PortDisplayOptions = {},
): string | null {
  const bracket = options.bracketIPv6 ?? false;
  const matches = bindings.filter((b) => b.containerPort === port && b.proto === proto);
  if (matches.length === 0) return null;
  return matches.map((b) => `${hostAddr(b.hostIp, b.hostPort, bracket)}\n`).join('');
}

/** Docker's message when `docker port NAME PORT` finds no binding. */
export function noPublicPortError(port: number, proto: string, container: string): string {
  return `Error: No public port '${port}/${proto}' published for ${container}`;
}
