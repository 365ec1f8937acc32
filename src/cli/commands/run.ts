// plumb run / plumb create
import type { Command } from 'commander';
import { createAndStart, runAttachedAndRecord } from '../../engine/containers/lifecycle.js';
import { PlumbError } from '../../engine/core/errors.js';
import { openContext, out } from '../output.js';
import { generateName } from '../parse/names.js';
import { parseAddHost, parseEnvList } from '../parse/options.js';
import { parsePortOptions } from '../parse/publish.js';

export interface RunOpts {
  name?: string;
  network: string;
  net?: string;
  hostname?: string;
  rm?: boolean;
  interactive?: boolean;
  tty?: boolean;
  detach?: boolean;
  publish: string[];
  publishAll?: boolean;
  expose: string[];
  link: string[];
  env: string[];
  ip?: string;
  macAddress?: string;
  networkAlias: string[];
  dns: string[];
  dnsSearch: string[];
  dnsOption: string[];
  addHost: string[];
}

function toRequest(image: string, command: string[], o: RunOpts) {
  let ports;
  try {
    ports = parsePortOptions(o.publish, o.expose);
  } catch (err) {
    throw new PlumbError((err as Error).message, 125);
  }
  for (const b of ports.bindings) {
    if (b.proto === 'sctp') throw new PlumbError('sctp is not supported by plumb: use tcp or udp', 125);
  }
  const env: Record<string, string> = {};
  for (const kv of parseEnvList(o.env, process.env)) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    name: o.name,
    image,
    command,
    network: o.net ?? o.network,
    hostname: o.hostname,
    autoRemove: !!o.rm,
    aliases: o.networkAlias,
    ip: o.ip,
    mac: o.macAddress,
    publish: ports.bindings.map((b) => ({ ...b, proto: b.proto as 'tcp' | 'udp' })),
    publishAll: !!o.publishAll,
    expose: ports.exposed.filter((e) => e.proto !== 'sctp').map((e) => ({ proto: e.proto as 'tcp' | 'udp', port: e.port })),
    links: o.link.map((l) => {
      const [target, alias] = l.split(':');
      return { target: target!.replace(/^\//, ''), alias: alias || target!.replace(/^\//, '') };
    }),
    env,
    dns: o.dns,
    dnsSearch: o.dnsSearch,
    dnsOptions: o.dnsOption,
    extraHosts: o.addHost.map((h) => {
      const e = parseAddHost(h);
      return `${e.name}:${e.ip}`;
    }),
    randomName: (taken: Set<string>) => generateName(taken),
  };
}

export async function run(image: string, command: string[], o: RunOpts, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb run');
  try {
    const c = await createAndStart(ctx, toRequest(image, command, o));
    if (o.detach || !command.length || ctx.dryRun) {
      out(c.id);
      return 0;
    }
    return await runAttachedAndRecord(ctx, c, !!o.interactive);
  } finally {
    ctx.close();
  }
}

export async function create(image: string, command: string[], o: RunOpts, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb create');
  try {
    const c = await createAndStart(ctx, toRequest(image, command, o), false);
    out(c.id);
    return 0;
  } finally {
    ctx.close();
  }
}
