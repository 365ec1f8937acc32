// plumb run / plumb create
import type { Command } from 'commander';
import { createAndStart, waitAndRecord } from '../../engine/containers/lifecycle.js';
import { imageInfo } from '../../engine/containers/images.js';
import { AttachSession } from '../attach-session.js';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../parse/detach-keys.js';
import { PlumbError } from '../../engine/core/errors.js';
import { openContext, out } from '../output.js';
import { generateName } from '../parse/names.js';
import { parseEnvList } from '../parse/options.js';
import { parsePortOptions } from '../parse/publish.js';
import { normalizeContainerConfig } from '../../validate/container-config.js';
import { parseLink } from '../../validate/links.js';
import { validateDnsSearch, validateDnsServer } from '../../validate/resolver.js';
import { formatExtraHost, parseExtraHost } from '../../validate/extra-hosts.js';
import { flagValueError } from '../parse/errors.js';

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
  detachKeys?: string;
}

/** Every input error of run/create exits 125, as Docker's do. */
function runError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new PlumbError((err as Error).message, 125);
  }
}

/** A list flag checked value by value, failing the way Docker's flag library does: `invalid argument "x" for "--dns" flag: ...`. */
function eachFlagValue<T>(values: readonly string[], flag: string, check: (v: string) => T): T[] {
  return values.map((v) => {
    try {
      return check(v);
    } catch (err) {
      throw new PlumbError(flagValueError(v, flag, (err as Error).message), 125);
    }
  });
}

function toRequest(image: string, command: string[], o: RunOpts) {
  const dns = eachFlagValue(o.dns, '--dns', validateDnsServer);
  const dnsSearch = eachFlagValue(o.dnsSearch, '--dns-search', validateDnsSearch);
  const extraHosts = eachFlagValue(o.addHost, '--add-host', (h) => formatExtraHost(parseExtraHost(h)));
  const links = eachFlagValue(o.link, '--link', parseLink);
  const ports = runError(() => parsePortOptions(o.publish, o.expose));
  // `-h ""` is Docker's default hostname (the short id).
  const checked = runError(() =>
    normalizeContainerConfig({
      name: o.name,
      image,
      network: o.net ?? o.network,
      hostname: o.hostname === '' ? undefined : o.hostname,
      aliases: o.networkAlias,
      ip: o.ip,
      mac: o.macAddress,
      links,
      dns,
      dnsSearch,
      dnsOptions: o.dnsOption,
      extraHosts,
    }),
  );
  for (const b of ports.bindings) {
    if (b.proto === 'sctp') throw new PlumbError('sctp is not supported by plumb: use tcp or udp', 125);
  }
  const env: Record<string, string> = {};
  for (const kv of parseEnvList(o.env, process.env)) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    ...checked,
    command,
    autoRemove: !!o.rm,
    publish: ports.bindings.map((b) => ({ ...b, proto: b.proto as 'tcp' | 'udp' })),
    publishAll: !!o.publishAll,
    expose: ports.exposed.filter((e) => e.proto !== 'sctp').map((e) => ({ proto: e.proto as 'tcp' | 'udp', port: e.port })),
    env,
    tty: !!o.tty,
    interactive: !!o.interactive,
    randomName: (taken: Pick<ReadonlySet<string>, 'has'>) => generateName(taken),
  };
}

export async function run(image: string, command: string[], o: RunOpts, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb run');
  try {
    const req = toRequest(image, command, o);
    // Without COMMAND, -i/-t run the image's shell (busybox, alpine); otherwise only a holder process runs.
    const runs = command.length > 0 || ((o.tty || o.interactive) && !!imageInfo(image).shell);
    if (o.detach || !runs || ctx.dryRun) {
      const c = await createAndStart(ctx, req);
      out(c.id);
      return 0;
    }
    // Foreground: attach before the command may start (the monitor holds it), as docker run does.
    let keys: number[];
    try {
      keys = parseDetachKeys(o.detachKeys ?? DEFAULT_DETACH_KEYS);
    } catch (err) {
      throw new PlumbError((err as Error).message, 125);
    }
    let session: AttachSession | undefined;
    let mainPid = 0;
    const tty = !!o.tty;
    const size = tty && process.stdout.isTTY ? { rows: process.stdout.rows, cols: process.stdout.columns } : undefined;
    const c = await createAndStart(ctx, req, true, {
      tty,
      stdin: !!o.interactive,
      size,
      onPid: async (pid, sock) => {
        mainPid = pid;
        session = await AttachSession.open(sock, {
          tty,
          stdin: !!o.interactive,
          stdinOnce: true,
          detachKeys: keys,
          onSignal: (sig) => {
            try {
              process.kill(mainPid, sig);
            } catch {
              /* already gone */
            }
          },
        });
      },
    });
    session!.start();
    if ((await session!.done) === 'detached') return 0;
    return await waitAndRecord(ctx, c);
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
