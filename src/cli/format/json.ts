// JSON text the way Go's encoding/json writes it, which is what Docker prints.
//
// Differences from JSON.stringify that show in Docker's output:
//   * the daemon escapes '<', '>' and '&' as \u003c, \u003e, \u0026 (inspect
//     output goes through it); the `json` template function does not;
//   * U+2028 and U+2029 are always escaped;
//   * maps are written with their keys sorted. Plain objects here are written
//     in insertion order (a Go struct); mark an object as a map with goMap()
//     to have its keys sorted whatever order they were inserted in.

const GO_MAP = Symbol('plumb.goMap');

/** Marks an object as a Go map: goJson writes its keys sorted. Returns the object. */
export function goMap<T extends object>(obj: T): T {
  Object.defineProperty(obj, GO_MAP, { value: true, enumerable: false });
  return obj;
}

const GO_STRUCT = Symbol('plumb.goStruct');

/**
 * Marks an object as a Go struct for `%v` (fmt prints `{v1 v2}`, not
 * `map[k:v]`); JSON is the same either way. Unmarked objects print as maps.
 */
export function goStruct<T extends object>(obj: T): T {
  Object.defineProperty(obj, GO_STRUCT, { value: true, enumerable: false });
  return obj;
}

export function isGoStruct(obj: object): boolean {
  return (obj as Record<symbol, unknown>)[GO_STRUCT] === true;
}

/** A copy of a record with its keys in Go's map order, marked as a map. */
export function sortedMap<V>(rec: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(rec).sort(compareKeys)) out[k] = rec[k]!;
  return goMap(out);
}

function compareKeys(a: string, b: string): number {
  // Go sorts map keys by their UTF-8 bytes; for text without surrogates the
  // UTF-16 order is the same.
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface GoJsonOptions {
  /** Indentation per level, e.g. '    ' for Docker's inspect; '' for compact. */
  indent?: string;
  /** Escape <, >, & like Go's default encoder. */
  escapeHtml?: boolean;
}

function quote(s: string, escapeHtml: boolean): string {
  let q = JSON.stringify(s);
  q = q.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  if (escapeHtml) q = q.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return q;
}

/** Serialises a value as Go's encoding/json would (MarshalIndent when indent is set). */
export function goJson(value: unknown, options: GoJsonOptions = {}): string {
  const indent = options.indent ?? '';
  const escapeHtml = options.escapeHtml ?? false;
  const write = (v: unknown, depth: number): string => {
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'string') return quote(v, escapeHtml);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v instanceof Date) return quote(v.toISOString(), escapeHtml);
    const nl = indent ? '\n' + indent.repeat(depth + 1) : '';
    const end = indent ? '\n' + indent.repeat(depth) : '';
    const sep = indent ? ': ' : ':';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return '[' + v.map((x) => nl + write(x, depth + 1)).join(',') + end + ']';
    }
    if (v instanceof Map) {
      const keys = [...v.keys()].map(String).sort(compareKeys);
      if (keys.length === 0) return '{}';
      return '{' + keys.map((k) => nl + quote(k, escapeHtml) + sep + write(v.get(k), depth + 1)).join(',') + end + '}';
    }
    if (typeof v === 'object') {
      const obj = v as Record<string, unknown>;
      let keys = Object.keys(obj).filter((k) => obj[k] !== undefined && typeof obj[k] !== 'function');
      if ((obj as Record<symbol, unknown>)[GO_MAP]) keys = keys.sort(compareKeys);
      if (keys.length === 0) return '{}';
      return '{' + keys.map((k) => nl + quote(k, escapeHtml) + sep + write(obj[k], depth + 1)).join(',') + end + '}';
    }
    return 'null';
  };
  return write(value, 0);
}
