// A network's `allocated` map on disk: one line per change, appended, so a
// commit that takes or gives back one address writes one line, however many
// containers the network has. `IP ENDPOINT` hands IP out, a bare `IP` takes
// it back; the last line for an address wins. The file is rewritten compact
// when it holds more than twice the lines it needs.
//
// A line cut short (a reader catching an append half-way) has no newline yet
// and is ignored; applying the same lines twice (a commit applied again after
// a crash) ends in the same map.
//
// In memory the map is the plain object the engine expects, behind a proxy
// that notes which addresses changed: a commit writes those, without
// comparing (or copying) a thousand entries.

export type AllocationChange = { append: string } | { replace: string };

/** A map as loaded: the object the engine sees, and what changed in it since it was stored. */
export interface TrackedAllocation {
  map: Record<string, string>;
  /** Lines in the file: how much compaction would save. */
  lines: number;
  /** Addresses set or deleted since the last commit. */
  changed: Set<string>;
}

const tracked = new WeakMap<object, TrackedAllocation>();

function applyLine(map: Record<string, string>, line: string): void {
  const space = line.indexOf(' ');
  if (space < 0) delete map[line];
  else map[line.slice(0, space)] = line.slice(space + 1);
}

/** The map a file holds (complete lines only), tracked for changes. */
export function loadAllocations(text: string): TrackedAllocation {
  const target: Record<string, string> = {};
  let lines = 0;
  const end = text.lastIndexOf('\n');
  let at = 0;
  while (at <= end) {
    const nl = text.indexOf('\n', at);
    if (nl > at) {
      applyLine(target, text.slice(at, nl));
      lines++;
    }
    at = nl + 1;
  }
  const changed = new Set<string>();
  const map = new Proxy(target, {
    set(t, key, value) {
      if (typeof key === 'string') changed.add(key);
      return Reflect.set(t, key, value);
    },
    deleteProperty(t, key) {
      if (typeof key === 'string') changed.add(key);
      return Reflect.deleteProperty(t, key);
    },
  });
  const info = { map, lines, changed };
  tracked.set(map, info);
  return info;
}

/** The whole map as a compact file. */
export function allocationText(map: Record<string, string>): string {
  let out = '';
  for (const [ip, id] of Object.entries(map)) out += `${ip} ${id}\n`;
  return out;
}

/**
 * What to write for `now` (undefined: nothing changed). `now` is the map as
 * loaded (its changed addresses are appended) or a map put in its place
 * (written whole).
 */
export function allocationChange(now: Record<string, string>): AllocationChange | undefined {
  const info = tracked.get(now);
  if (!info) return { replace: allocationText(now) };
  if (!info.changed.size) return undefined;
  let append = '';
  for (const ip of info.changed) append += ip in info.map ? `${ip} ${info.map[ip]}\n` : `${ip}\n`;
  const size = Object.keys(info.map).length;
  if (info.lines + info.changed.size > 2 * size + 64) return { replace: allocationText(now) };
  return { append };
}

/** After `change` is written for `now`: its changes are stored. Returns the map to keep using (tracked). */
export function committed(now: Record<string, string>, change: AllocationChange): Record<string, string> {
  const info = tracked.get(now);
  if ('replace' in change || !info) {
    const fresh = loadAllocations(change && 'replace' in change ? change.replace : allocationText(now));
    return fresh.map;
  }
  info.lines += info.changed.size;
  info.changed.clear();
  return now;
}
