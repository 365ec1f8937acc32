// plumb exec, ps, port, stop, start, restart, rm, inspect
import type { Command } from 'commander';
import { PlumbError } from '../../engine/core/errors.js';
import { liveContainer } from '../../engine/system/queries.js';
import { findContainer } from '../../store/store.js';
import { compareCodeUnits } from '../../store/order.js';
import type { ContainerRecord, StoreData } from '../../store/model.js';
import { type ContainerSummary, containerFilterFromFlags } from '../parse/container-filter.js';
import { displayablePorts, formatPortLines, formatPortQuery, parsePortArg, noPublicPortError } from '../format/ports.js';
import { formatTable } from '../format/table.js';
import { containerStatus, createdAgo } from '../format/time.js';
import { renderFormat, renderTemplate } from '../format/template.js';
import { renderInspect } from '../format/inspect.js';
import { openContext, out } from '../output.js';
import { parseEnvList } from '../parse/options.js';
import { flagValueError, goQuote } from '../parse/errors.js';

/**
 * The engine's container operations, loaded by the commands that change
 * containers: evaluating them (drivers, addressing) cost ps, port and inspect,
 * which only read the store, several ms each.
 */
const lifecycle = () => import('../../engine/containers/lifecycle.js');

function report(done: string[], errors: string[]): number {
  for (const d of done) out(d);
  for (const e of errors) process.stderr.write(`Error: ${e}\n`);
  return errors.length ? 1 : 0;
}

export async function exec(container: string, command: string[], o: { interactive?: boolean; env: string[]; detach?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb exec');
  try {
    const env: Record<string, string> = {};
    for (const kv of parseEnvList(o.env, process.env)) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    return await (await lifecycle()).execIn(ctx, container, command, !!o.interactive, env, !!o.detach);
  } finally {
    ctx.close();
  }
}

/** Whether a running record's process is still there (a COMMAND that ended shows as exited at once). */
const liveState = liveContainer;

function statusText(c: ContainerRecord, now: number): string {
  return containerStatus(
    {
      running: c.state === 'running',
      startedAt: c.startedAt ? Date.parse(c.startedAt) : undefined,
      finishedAt: c.finishedAt ? Date.parse(c.finishedAt) : undefined,
      exitCode: c.exitCode ?? 0,
    },
    now,
  );
}

function commandText(c: ContainerRecord, trunc: boolean): string {
  const full = c.command.join(' ');
  const shown = trunc && full.length > 20 ? `${full.slice(0, 19)}…` : full;
  return `"${shown}"`;
}

export function portsText(c: ContainerRecord): string {
  // The daemon reports a container's ports from its live network settings, which a stopped container no longer has.
  if (c.state !== 'running') return '';
  return displayablePorts(
    c.ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPort: p.hostPort })),
    c.expose.map((e) => ({ proto: e.proto, port: e.port })),
  );
}

/** What `ps --filter` needs to know of a container. */
function summary(c: ContainerRecord, data: StoreData): ContainerSummary {
  return {
    id: c.id,
    name: c.name,
    image: c.image,
    state: c.state,
    exitCode: c.exitCode ?? 0,
    created: c.created,
    labels: (c as { labels?: Record<string, string> }).labels ?? {},
    networks: Object.keys(c.endpoints).map((id) => ({ id, name: data.networks[id]?.name ?? id })),
    published: c.state === 'running' ? c.ports.map((p) => ({ port: p.containerPort, proto: p.proto })) : [],
    exposed: c.expose.map((e) => ({ port: e.port, proto: e.proto })),
  };
}

interface PsOptions {
  all?: boolean;
  quiet?: boolean;
  trunc: boolean;
  format?: string;
  filter: string[];
  latest?: boolean;
  last?: string;
  size?: boolean;
}

export async function ps(o: PsOptions, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb ps');
  try {
    const now = Date.now();
    const data = ctx.store.read();
    const everyone = Object.values(data.containers)
      .map(liveState)
      .sort((a, b) => compareCodeUnits(b.created, a.created));
    const keep = containerFilterFromFlags(o.filter, everyone.map((c) => summary(c, data)));
    // -n N and -l look at the newest containers whatever their state, as Docker's do.
    const last = o.latest ? 1 : o.last !== undefined ? Number(o.last) : -1;
    if (!Number.isInteger(last) || last < -1) throw new PlumbError(`invalid argument "${o.last}" for "-n, --last" flag: use a whole number`, 125);
    // Docker lists every state once a filter names a status (or -a, -n, -l ask for it).
    const all = o.all || last >= 0 || o.filter.some((f) => /^\s*(status|exited)\s*=/i.test(f));
    let list = everyone.filter((c) => (all || c.state === 'running') && keep(summary(c, data)));
    if (last >= 0) list = list.slice(0, last);
    const id = (c: ContainerRecord) => (o.trunc ? c.id.slice(0, 12) : c.id);
    if (o.quiet) {
      out(list.map(id).join('\n'));
      return 0;
    }
    if (o.format) {
      const rows = list.map((c) => ({
        ID: id(c),
        Image: c.image,
        Command: commandText(c, o.trunc),
        CreatedAt: c.created,
        RunningFor: createdAgo(Date.parse(c.created), now),
        Ports: portsText(c),
        Status: statusText(c, now),
        State: c.state,
        Names: c.name,
        Labels: '',
        Mounts: '',
        LocalVolumes: '0',
        Size: '0B',
        Networks: Object.keys(c.endpoints)
          .map((nid) => data.networks[nid]?.name ?? nid)
          .join(','),
      }));
      process.stdout.write(
        renderFormat(o.format, rows, {
          typeName: '*formatter.containerContext',
          headers: {
            ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', Status: 'STATUS',
            State: 'STATE', Names: 'NAMES', Networks: 'NETWORKS', Labels: 'LABELS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE',
          },
        }),
      );
      return 0;
    }
    // A sandbox has no writable layer, so its size is always zero; -s shows the column as Docker does.
    const rows = list.map((c) => [
      id(c), c.image, commandText(c, o.trunc), createdAgo(Date.parse(c.created), now), statusText(c, now), portsText(c), c.name,
      ...(o.size ? ['0B (virtual 0B)'] : []),
    ]);
    out(formatTable([['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES', ...(o.size ? ['SIZE'] : [])], ...rows]));
    return 0;
  } finally {
    ctx.close();
  }
}

export async function port(container: string, spec: string | undefined, _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, false, 'plumb port');
  try {
    const c = findContainer(ctx.store.read(), container);
    if (!c) throw new PlumbError(`No such container: ${container}`);
    const bindings = c.ports.map((p) => ({ proto: p.proto, containerPort: p.containerPort, hostIp: p.hostIp, hostPort: p.hostPort }));
    if (!spec) {
      const text = formatPortLines(bindings);
      if (text) out(text);
      return 0;
    }
    const parsed = parsePortArg(spec);
    if (!parsed) throw new PlumbError(`Invalid port: ${spec}`);
    const text = formatPortQuery(bindings, parsed.port, parsed.proto);
    // noPublicPortError already carries Docker's "Error: " prefix, which reportError adds again.
    if (!text) throw new PlumbError(noPublicPortError(parsed.port, parsed.proto, container).replace(/^Error: /, ''));
    out(text);
    return 0;
  } finally {
    ctx.close();
  }
}

/** `-t/--time`: whole seconds, as Go's strconv.ParseInt reads them. */
function seconds(text: string): number {
  if (!/^[+-]?\d{1,9}$/.test(text)) {
    throw new PlumbError(flagValueError(text, '-t, --time', `strconv.ParseInt: parsing ${goQuote(text)}: invalid syntax`), 125);
  }
  return Math.max(0, Number(text));
}

export async function stop(refs: string[], o: { time: string }, cmd: Command): Promise<number> {
  const timeout = seconds(o.time);
  const ctx = await openContext(cmd, true, 'plumb stop');
  try {
    const { done, errors } = await (await lifecycle()).stopContainers(ctx, refs, timeout);
    return report(done, errors);
  } finally {
    ctx.close();
  }
}

export async function restart(refs: string[], o: { time: string }, cmd: Command): Promise<number> {
  const timeout = seconds(o.time);
  const ctx = await openContext(cmd, true, 'plumb restart');
  try {
    const { done, errors } = await (await lifecycle()).restartContainers(ctx, refs, timeout);
    return report(done, errors);
  } finally {
    ctx.close();
  }
}

export async function start(refs: string[], _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb start');
  try {
    const { done, errors } = await (await lifecycle()).startContainers(ctx, refs);
    return report(done, errors);
  } finally {
    ctx.close();
  }
}

export async function remove(refs: string[], o: { force?: boolean }, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb rm');
  try {
    const { done, errors } = await (await lifecycle()).removeContainers(ctx, refs, !!o.force);
    return report(done, errors);
  } finally {
    ctx.close();
  }
}

export async function inspect(refs: string[], o: { format?: string; type?: string }, cmd: Command): Promise<number> {
  if (o.type !== undefined && o.type !== 'container' && o.type !== 'network') {
    throw new PlumbError(`"${o.type}" is not a valid value for --type: plumb has containers and networks`);
  }
  const ctx = await openContext(cmd, false, 'plumb inspect');
  try {
    const data = ctx.store.read();
    const items: unknown[] = [];
    const missing: string[] = [];
    // Loaded here, not with ps and port: what inspect shows pulls in the firewall's and the drivers' modules.
    const { containerInspectJson, networkInspectJson } = await import('./inspect.js');
    const { Facts } = await import('../../doctor/facts.js');
    const facts = new Facts(ctx, data);
    for (const ref of refs) {
      const c = o.type === 'network' ? undefined : findContainer(data, ref);
      if (c) {
        const live = liveState(c);
        const item = containerInspectJson(ctx, data, live) as Record<string, unknown>;
        if (process.getuid?.() === 0) {
          const { containerKernelView } = await import('../../doctor/hops/kernel-view.js');
          const kernel = await containerKernelView(facts, live).catch((err: Error) => ({ Error: err.message }));
          if (kernel) item.Plumb = { ...((item.Plumb as Record<string, unknown> | undefined) ?? {}), Kernel: kernel };
        }
        items.push(item);
        continue;
      }
      const nets = o.type === 'container' ? { json: [] } : await networkInspectJson(ctx, [ref]);
      const { addKernelFacts } = await import('./network.js');
      await addKernelFacts(ctx, nets.json as Array<Record<string, unknown>>);
      if (nets.json.length) items.push(...nets.json);
      else missing.push(ref);
    }
    if (o.format) for (const item of items) process.stdout.write(renderTemplate(o.format, item));
    else out(renderInspect(items));
    // Docker names what it looked for: "No such container: x" with --type container, "No such object: x" without.
    const kind = o.type ?? 'object';
    for (const m of missing) process.stderr.write(`Error: No such ${kind}: ${m}\n`);
    return missing.length ? 1 : 0;
  } finally {
    ctx.close();
  }
}

export async function rename(ref: string, name: string, _o: unknown, cmd: Command): Promise<number> {
  const ctx = await openContext(cmd, true, 'plumb rename');
  try {
    const { renameContainer } = await import('../../engine/containers/rename.js');
    await renameContainer(ctx, ref, name);
    return 0;
  } finally {
    ctx.close();
  }
}
