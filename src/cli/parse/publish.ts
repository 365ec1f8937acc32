// `-p/--publish` and `--expose`, parsed the way the Docker 20.10 CLI parses
// them, with the same error texts.
//
//   -p 80                      container port 80/tcp, random host port on every address
//   -p 8080:80                 host 8080 -> 80
//   -p 127.0.0.1:8080:80       only on 127.0.0.1
//   -p 127.0.0.1::80           random host port on 127.0.0.1
//   -p [::1]:8080:80           an IPv6 host address goes in brackets
//   -p 8000-8002:80-82         three bindings, 8000->80, 8001->81, 8002->82
//   -p 8000-8010:80            one binding; the host port is picked from 8000-8010
//   -p 80-82                   three bindings with random host ports
//   -p 53:53/udp               protocol suffix: tcp (default), udp, sctp
//   -p published=8080,target=80,protocol=udp   the long syntax
//   --expose 80 / --expose 7000-7002/udp       exposed only

import { isIp } from '../../net/address.js';
import { InvalidArgumentError } from './errors.js';

export type PortProto = 'tcp' | 'udp' | 'sctp';

export interface PublishSpec {
  proto: PortProto;
  containerPort: number;
  /** The host address to bind, as given ('' = the default binding: every address). */
  hostIp: string;
  /** First host port of the allowed range; 0 = pick a free one. */
  hostPortStart: number;
  /** Last host port of the allowed range; equals hostPortStart for a fixed port, 0 = pick a free one. */
  hostPortEnd: number;
}

export interface ExposeSpec {
  proto: PortProto;
  port: number;
}

const PROTOS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** Go's strconv.ParseUint(s, 10, 16), with its error text. */
function parseUint16(s: string): number {
  if (!/^[0-9]+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** A port or `start-end` range, as Docker's nat.ParsePortRange reads it. */
export function parsePortRange(ports: string): [start: number, end: number] {
  if (ports === '') throw new Error('Empty string specified for ports.');
  if (!ports.includes('-')) {
    const n = parseUint16(ports);
    return [n, n];
  }
  const parts = ports.split('-');
  const start = parseUint16(parts[0]!);
  const end = parseUint16(parts[1]!);
  if (end < start) throw new Error(`Invalid range specified for the Port: ${ports}`);
  return [start, end];
}

/** `80/udp` -> ['udp', '80']; `80` -> ['tcp', '80']; '' or `/udp` -> ['', '']. */
export function splitProtoPort(raw: string): [proto: string, port: string] {
  const parts = raw.split('/');
  if (raw.length === 0 || parts[0]!.length === 0) return ['', ''];
  if (parts.length === 1) return ['tcp', raw];
  if (parts[1]!.length === 0) return ['tcp', parts[0]!];
  return [parts[1]!, parts[0]!];
}

function splitParts(raw: string): [ip: string, hostPort: string, containerPort: string] {
  const parts = raw.split(':');
  const n = parts.length;
  const containerPort = parts[n - 1]!;
  switch (n) {
    case 1:
      return ['', '', containerPort];
    case 2:
      return ['', parts[0]!, containerPort];
    case 3:
      return [parts[0]!, parts[1]!, containerPort];
    default:
      return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, containerPort];
  }
}

/** Go's net.SplitHostPort host part, with its error text. */
function splitHost(hostport: string): string {
  const fail = (why: string): never => {
    throw new Error(`address ${hostport}: ${why}`);
  };
  const i = hostport.lastIndexOf(':');
  if (i < 0) fail('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end < 0) fail("missing ']' in address");
    if (end + 1 === hostport.length) fail('missing port in address');
    if (end + 1 !== i) fail(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) fail('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) fail("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) fail("unexpected ']' in address");
  return host;
}

/** Whether Go's net.ParseIP accepts the text (no zones, no leading zeros). */
export function isValidIp(ip: string): boolean {
  if (ip.includes('%')) return false;
  return isIp(ip);
}

/** The long syntax `published=8080,target=80,protocol=udp` in the short form. */
function toStandardNotation(spec: string): string {
  if (!spec.includes('=')) return spec;
  const params = new Map<string, string>([['protocol', 'tcp']]);
  for (const param of spec.split(',')) {
    const opt = param.split('=');
    if (opt.length < 2) {
      throw new InvalidArgumentError(`invalid publish opts format (should be name=value but got '${param}')`);
    }
    params.set(opt[0]!, opt[1]!);
  }
  return `${params.get('published') ?? ''}:${params.get('target') ?? ''}/${params.get('protocol')}`;
}

/**
 * One `-p` value -> its bindings. Throws InvalidArgumentError with Docker's
 * text: `Invalid containerPort: x`, `Invalid hostPort: x`,
 * `Invalid ip address: x`, `Invalid proto: x`, `No port specified: x<empty>`,
 * `Invalid ranges specified for container and host Ports: 80-82 and 8000-8001`.
 */
export function parsePublish(rawSpec: string): PublishSpec[] {
  const raw = toStandardNotation(rawSpec);
  const [rawIp, hostPort, rest] = splitParts(raw);
  const [proto, containerPort] = splitProtoPort(rest);

  let ip: string;
  try {
    ip = splitHost(rawIp + ':');
  } catch (e) {
    throw new InvalidArgumentError(`Invalid ip address ${rawIp}: ${(e as Error).message}`);
  }
  if (ip !== '' && !isValidIp(ip)) throw new InvalidArgumentError(`Invalid ip address: ${ip}`);
  if (containerPort === '') throw new InvalidArgumentError(`No port specified: ${raw}<empty>`);

  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(containerPort);
  } catch {
    throw new InvalidArgumentError(`Invalid containerPort: ${containerPort}`);
  }
  // Docker accepts container port 0 and fails later; plumb refuses it here.
  if (start === 0) throw new InvalidArgumentError(`Invalid containerPort: ${containerPort}`);

  let hostStart = 0;
  let hostEnd = 0;
  if (hostPort !== '') {
    try {
      [hostStart, hostEnd] = parsePortRange(hostPort);
    } catch {
      throw new InvalidArgumentError(`Invalid hostPort: ${hostPort}`);
    }
    // a host range with one container port is a pool to pick from
    if (end - start !== hostEnd - hostStart && end !== start) {
      throw new InvalidArgumentError(
        `Invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`,
      );
    }
  }

  const lower = proto.toLowerCase();
  if (!PROTOS.includes(lower)) throw new InvalidArgumentError(`Invalid proto: ${proto}`);

  const specs: PublishSpec[] = [];
  for (let i = 0; i <= end - start; i++) {
    let hs = 0;
    let he = 0;
    if (hostPort !== '') {
      if (start === end) {
        hs = hostStart;
        he = hostEnd;
      } else {
        hs = hostStart + i;
        he = hs;
      }
    }
    specs.push({ proto: lower as PortProto, containerPort: start + i, hostIp: ip, hostPortStart: hs, hostPortEnd: he });
  }
  return specs;
}

/** One `--expose` value -> the exposed ports, with Docker's error texts. */
export function parseExpose(value: string): ExposeSpec[] {
  if (value.includes(':')) throw new InvalidArgumentError(`invalid port format for --expose: ${value}`);
  const [proto, port] = splitProtoPort(value);
  let start: number;
  let end: number;
  try {
    [start, end] = parsePortRange(port);
  } catch (e) {
    throw new InvalidArgumentError(`invalid range format for --expose: ${value}, error: ${(e as Error).message}`);
  }
  // Docker stores any protocol word here; plumb only knows the three it can forward.
  const lower = proto.toLowerCase();
  if (!PROTOS.includes(lower)) throw new InvalidArgumentError(`Invalid proto: ${proto}`);
  if (start === 0) throw new InvalidArgumentError(`invalid range format for --expose: ${value}, error: port 0 is not a port`);
  const out: ExposeSpec[] = [];
  for (let p = start; p <= end; p++) out.push({ proto: lower as PortProto, port: p });
  return out;
}

export interface PortOptions {
  /** Every port the container exposes: published ones first, then --expose ones; no duplicates. */
  exposed: ExposeSpec[];
  /** Every requested binding, in the order given. Identical repeats are kept once. */
  bindings: PublishSpec[];
}

/** All `-p` and `--expose` values of one `run`. */
export function parsePortOptions(publish: readonly string[], expose: readonly string[] = []): PortOptions {
  const exposed: ExposeSpec[] = [];
  const seen = new Set<string>();
  const addExposed = (e: ExposeSpec): void => {
    const key = `${e.port}/${e.proto}`;
    if (seen.has(key)) return;
    seen.add(key);
    exposed.push(e);
  };
  const bindings: PublishSpec[] = [];
  const seenBinding = new Set<string>();
  for (const p of publish) {
    for (const spec of parsePublish(p)) {
      addExposed({ proto: spec.proto, port: spec.containerPort });
      const key = `${spec.containerPort}/${spec.proto}|${spec.hostIp}|${spec.hostPortStart}-${spec.hostPortEnd}`;
      if (seenBinding.has(key)) continue;
      seenBinding.add(key);
      bindings.push(spec);
    }
  }
  for (const e of expose) for (const spec of parseExpose(e)) addExposed(spec);
  return { exposed, bindings };
}

/** The Docker text form of a binding's host port: '', '8080' or '8000-8010'. */
export function hostPortText(spec: PublishSpec): string {
  if (spec.hostPortStart === 0 && spec.hostPortEnd === 0) return '';
  if (spec.hostPortStart === spec.hostPortEnd) return String(spec.hostPortStart);
  return `${spec.hostPortStart}-${spec.hostPortEnd}`;
}
