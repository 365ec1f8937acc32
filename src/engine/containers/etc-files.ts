// The files a sandbox's processes see as /etc/hosts, /etc/resolv.conf and
// /etc/hostname, laid out the way Docker 20.10 writes them. They are bind
// mounted into each process's mount namespace, so they are rewritten in place
// (truncate + write), never replaced: a rename would detach running processes
// from the new content.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Journal } from '../../kernel/ops.js';

const HOSTS_HEADER = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
];

export interface HostsInput {
  /** --add-host entries, "name:ip". */
  extraHosts: string[];
  /** Legacy links (default bridge only): ip, alias, target id12 and target name. */
  links: Array<{ ip: string; alias: string; id12: string; name: string }>;
  /** One line per network the sandbox is on: its address there. */
  own: Array<{ ip: string }>;
  hostname: string;
}

export function renderHosts(h: HostsInput): string {
  const lines = [...HOSTS_HEADER];
  for (const entry of h.extraHosts) {
    const idx = entry.indexOf(':');
    lines.push(`${entry.slice(idx + 1)}\t${entry.slice(0, idx)}`);
  }
  for (const l of h.links) {
    // Docker's format: "<ip>\t<alias> <id12>", plus the name when the alias differs.
    lines.push(`${l.ip}\t${l.alias} ${l.id12}${l.alias !== l.name ? ` ${l.name}` : ''}`);
  }
  for (const o of h.own) lines.push(`${o.ip}\t${h.hostname}`);
  return lines.join('\n') + '\n';
}

export interface ResolvInput {
  /** true on user-defined networks: the embedded resolver at 127.0.0.11. */
  embeddedDns: boolean;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  /** The host's /etc/resolv.conf text. */
  hostResolvConf: string;
}

/** Loopback resolvers of the host are unreachable from a sandbox; Docker drops them too. */
function usableHostLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .filter((l) => !/^nameserver\s+(127\.|::1\b)/.test(l));
}

export function renderResolvConf(r: ResolvInput): string {
  if (r.embeddedDns) {
    const lines = ['nameserver 127.0.0.11'];
    const search = r.dnsSearch.length ? r.dnsSearch : searchOf(r.hostResolvConf);
    if (search.length) lines.push(`search ${search.join(' ')}`);
    lines.push(`options ${['ndots:0', ...r.dnsOptions.filter((o) => !o.startsWith('ndots:'))].join(' ')}`);
    return lines.join('\n') + '\n';
  }
  if (!r.dns.length && !r.dnsSearch.length && !r.dnsOptions.length) {
    return usableHostLines(r.hostResolvConf).join('\n') + '\n';
  }
  const host = usableHostLines(r.hostResolvConf);
  const lines: string[] = [];
  const servers = r.dns.length ? r.dns : host.filter((l) => l.startsWith('nameserver')).map((l) => l.split(/\s+/)[1]!);
  if (r.dnsSearch.length) lines.push(`search ${r.dnsSearch.join(' ')}`);
  for (const s of servers) lines.push(`nameserver ${s}`);
  if (r.dnsOptions.length) lines.push(`options ${r.dnsOptions.join(' ')}`);
  return lines.join('\n') + '\n';
}

function searchOf(text: string): string[] {
  const line = usableHostLines(text).find((l) => l.startsWith('search '));
  return line ? line.split(/\s+/).slice(1) : [];
}

export interface SandboxFiles {
  hosts: string;
  resolvConf: string;
  hostname: string;
}

export function sandboxFiles(dir: string): SandboxFiles {
  return { hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname') };
}

/** Writes a file in place: O_TRUNC keeps the inode, so bind mounts of it see the new content. */
export function writeInPlace(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o644 });
}

/** Why each file says what it says, for the narration (each has a plain default). */
export interface SandboxFilesWhy {
  hosts?: string;
  resolvConf?: string;
}

/**
 * Writes the three files as recorded steps (a dry run records them only), each
 * with its reason: they are what the container's processes see as /etc/hosts,
 * /etc/resolv.conf and /etc/hostname.
 */
export function writeSandboxFiles(
  journal: Journal,
  dir: string,
  content: { hosts: string; resolvConf: string; hostname: string },
  why: SandboxFilesWhy = {},
): SandboxFiles {
  const files = sandboxFiles(dir);
  const write = (path: string, text: string, reason: string) =>
    journal.runSync({ kind: 'file.write', path, content: text, why: reason }, () => {
      mkdirSync(dir, { recursive: true });
      writeInPlace(path, text);
    });
  write(files.hosts, content.hosts, why.hosts ?? "the container's /etc/hosts (plumb mounts this file there for every process it starts)");
  write(files.resolvConf, content.resolvConf, why.resolvConf ?? "the container's /etc/resolv.conf: where its processes send DNS queries");
  write(files.hostname, content.hostname + '\n', `the container's /etc/hostname (its UTS namespace answers \`hostname\` with ${content.hostname})`);
  return files;
}

/** The host's resolv.conf; PLUMB_HOST_RESOLV_CONF names another file (tests point it at a resolver they run). */
export function readHostResolvConf(): string {
  try {
    return readFileSync(process.env.PLUMB_HOST_RESOLV_CONF || '/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
