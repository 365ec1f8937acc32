// Watching the cluster store, through the etcd3 client's gRPC watch, for the
// processes that live long: the host agent and the embedded DNS. It reconnects
// by itself and resumes from the last revision it saw; the caller re-reads
// everything when it (re)connects, so a missed event never matters. One-shot
// commands never load this module (see etcd-gateway.ts for why).
import type { Watcher } from 'etcd3';
import type { ClusterConfig } from './config.js';
import { keys, type ClusterChange } from './records.js';

/** etcd3's default fault handling opens a circuit for 5 s after 3 failures; a
 * watcher must notice etcd is back at once, so every call simply runs. */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => Promise<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
};

/** Watch reconnects every 300 ms instead of backing off to 30 s. */
const steadyBackoff: { duration: number; next(): unknown } = { duration: 300, next: () => steadyBackoff };

export interface ClusterWatch {
  /** Stops watching and closes the connection. */
  close(): Promise<void>;
}

/**
 * Calls `onChange` with every change below the store's prefix (deletes carry
 * the value they removed), and `onState` when the watch connects or loses etcd.
 */
export async function watchCluster(
  config: ClusterConfig,
  onChange: (change: ClusterChange) => void,
  onState: (state: 'connected' | 'disconnected', detail?: string) => void,
): Promise<ClusterWatch> {
  const { Etcd3 } = await import('etcd3');
  const client = new Etcd3({
    hosts: config.endpoints.map((e) => `http://${e}`),
    dialTimeout: 2000,
    faultHandling: {
      host: () => passThrough as never,
      global: passThrough as never,
      watchBackoff: steadyBackoff as never,
    },
  });
  let w: Watcher;
  try {
    w = await client.watch().prefix(keys(config.prefix).root).withPreviousKV().watcher();
  } catch (err) {
    client.close();
    throw err;
  }
  const text = (b?: Buffer) => (b?.length ? b.toString('utf8') : undefined);
  w.on('put', (kv, prev) => onChange({ type: 'put', key: kv.key.toString(), value: text(kv.value), previous: text(prev?.value) }));
  w.on('delete', (kv, prev) => onChange({ type: 'delete', key: kv.key.toString(), previous: text(prev?.value) }));
  w.on('connected', () => onState('connected'));
  w.on('disconnected', (e) => onState('disconnected', e?.message));
  w.on('error', (e) => onState('disconnected', e?.message));
  return {
    close: () =>
      w
        .cancel()
        .catch(() => undefined)
        .finally(() => client.close()),
  };
}
