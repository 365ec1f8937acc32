// The part of etcd's v3 key-value API plumb uses (range, and transactions of
// compares, puts and deletes), as plain data, and its JSON form on etcd's
// HTTP gateway (`POST /v3/kv/range`, `POST /v3/kv/txn`). The gateway speaks the
// same v3 API as gRPC, with keys and values in base64 and 64-bit numbers as
// strings. Pure: no I/O here, so the encoding is unit-tested.

export interface KeyValue {
  key: string;
  value: string;
  createRevision: string;
  modRevision: string;
  version: string;
}

export interface RangeResult {
  kvs: KeyValue[];
  /** The store's revision when the range was read. */
  revision: string;
}

/** One condition of a transaction, on one key (etcd's Compare). */
export type Compare =
  | { key: string; target: 'CREATE' | 'MOD' | 'VERSION'; result: CompareResult; revision: string | number }
  | { key: string; target: 'VALUE'; result: CompareResult; value: string };
export type CompareResult = 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'LESS';

/** One operation of a transaction: a write, or a read whose answer comes back with the transaction's. */
export type TxnOp = { put: string; value: string } | { delete: string } | { deletePrefix: string } | { range: string; prefix?: boolean };

export interface Txn {
  compare: Compare[];
  success: TxnOp[];
  failure?: TxnOp[];
}

export interface TxnResult {
  /** Whether the compares held (and `success` ran rather than `failure`). */
  succeeded: boolean;
  /** The answers of the branch's range operations, in order, as of the transaction's revision. */
  ranges: RangeResult[];
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** The end of the range holding every key that starts with `prefix` (etcd's prefix convention: last byte + 1). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  // All 0xff (or empty): "to the end of the keyspace" is a single zero byte.
  return Buffer.from([0]).toString('base64');
}

export function encodeRange(key: string, opts: { prefix?: boolean } = {}): object {
  return opts.prefix ? { key: b64(key), range_end: prefixEnd(key) } : { key: b64(key) };
}

function encodeCompare(c: Compare): object {
  const base = { key: b64(c.key), target: c.target, result: c.result };
  switch (c.target) {
    case 'CREATE':
      return { ...base, create_revision: String(c.revision) };
    case 'MOD':
      return { ...base, mod_revision: String(c.revision) };
    case 'VERSION':
      return { ...base, version: String(c.revision) };
    case 'VALUE':
      return { ...base, value: b64(c.value) };
  }
}

function encodeOp(op: TxnOp): object {
  if ('range' in op) return { request_range: encodeRange(op.range, { prefix: op.prefix }) };
  if ('put' in op) return { request_put: { key: b64(op.put), value: b64(op.value) } };
  if ('delete' in op) return { request_delete_range: { key: b64(op.delete) } };
  return { request_delete_range: { key: b64(op.deletePrefix), range_end: prefixEnd(op.deletePrefix) } };
}

export function encodeTxn(t: Txn): object {
  return { compare: t.compare.map(encodeCompare), success: t.success.map(encodeOp), failure: (t.failure ?? []).map(encodeOp) };
}

interface WireKv {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  version?: string;
}
interface WireHeader {
  header?: { revision?: string };
}

export function decodeRange(body: WireHeader & { kvs?: WireKv[] }): RangeResult {
  return {
    revision: body.header?.revision ?? '0',
    kvs: (body.kvs ?? []).map((kv) => ({
      key: unb64(kv.key),
      value: unb64(kv.value),
      // proto3 JSON leaves out zero values.
      createRevision: kv.create_revision ?? '0',
      modRevision: kv.mod_revision ?? '0',
      version: kv.version ?? '0',
    })),
  };
}

export function decodeTxn(body: WireHeader & { succeeded?: boolean; responses?: Array<{ response_range?: WireHeader & { kvs?: WireKv[] } }> }): TxnResult {
  const revision = body.header?.revision ?? '0';
  return {
    // proto3 JSON leaves out `succeeded` when it is false.
    succeeded: body.succeeded === true,
    // A range inside a transaction has its own header with the same revision; fall back to the transaction's.
    ranges: (body.responses ?? []).filter((r) => r.response_range).map((r) => decodeRange({ ...r.response_range!, header: { revision: r.response_range!.header?.revision ?? revision } })),
  };
}

/** What the gateway says went wrong: `{"error": ..., "message": ..., "code": N}`. */
export function gatewayError(body: unknown): string | undefined {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; error?: unknown };
    const m = b.message ?? b.error;
    if (typeof m === 'string' && m) return m;
  }
  return undefined;
}

/** What ClusterStore needs of etcd for one-shot reads and writes. */
export interface Kv {
  range(key: string, opts?: { prefix?: boolean }): Promise<RangeResult>;
  txn(t: Txn): Promise<TxnResult>;
  close(): void;
}
