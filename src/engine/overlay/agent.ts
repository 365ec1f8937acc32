// The host agent: keeps this host's overlay namespaces in line with the
// cluster store. It watches every key below the store's prefix; a change that
// can alter this host's forwarding entries (an endpoint on another host came
// or went, a network was removed) triggers a reconcile of all overlay
// namespaces on this host, coalesced so a burst of changes costs one pass. It also reconciles when the watch (re)connects, so
// an etcd outage or the agent's own restart ends in a full resync, and every
// RESYNC_MS as a safety net. Kernel changes are narrated in its log as the
// equivalent ip/bridge commands.
import type { ClusterConfig } from '../../cluster/config.js';
import type { ClusterStore } from '../../cluster/etcd.js';
import { changesPeersOf, type ClusterChange } from '../../cluster/records.js';
import type { OpSink } from '../../kernel/ops.js';
import { claimAgentPidFile, releaseAgentPidFile, runningAgent } from './agent-control.js';
import { Context } from '../core/context.js';
import { PlumbError } from '../core/errors.js';
import { overlayConfig, resolveVtep } from './cluster.js';
import { reconcilePeers } from './peers.js';

const RESYNC_MS = 10_000;
const RETRY_MS = 250;

export interface AgentOptions {
  root?: string;
  /** Where kernel changes are narrated (the log). */
  sinks?: OpSink[];
  log?: (line: string) => void;
}

export async function runAgent(opts: AgentOptions = {}): Promise<number> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`));
  const config: ClusterConfig = overlayConfig();
  const probe = new Context({ root: opts.root });
  const paths = probe.paths;
  let vtep: string;
  try {
    vtep = await resolveVtep(probe, config);
  } finally {
    probe.close();
  }
  if (!claimAgentPidFile(paths)) throw new PlumbError(`a plumb agent already runs on this host (pid ${runningAgent(paths)})`);
  const { ClusterStore } = await import('../../cluster/etcd.js');
  const store: ClusterStore = await ClusterStore.connect(config, { timeoutMs: 2000 });
  log(`agent ${process.pid} on ${config.nodeName}: VTEP ${vtep}, cluster store ${config.store}`);

  let running = false;
  let again = false;
  let retry: NodeJS.Timeout | undefined;
  let stopping = false;

  const pass = async (): Promise<void> => {
    const ctx = new Context({ root: opts.root, sinks: opts.sinks });
    try {
      const snapshot = await store.snapshot();
      const r = await reconcilePeers(ctx, snapshot, vtep);
      if (r.changes) log(`revision ${snapshot.revision}: ${r.changes} change(s) in ${r.networks} overlay namespace(s)`);
    } finally {
      ctx.close();
    }
  };

  const schedule = (): void => {
    if (stopping) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    pass()
      .catch((err) => {
        log(`reconcile failed, retrying: ${(err as Error).message.split('\n')[0]}`);
        clearTimeout(retry);
        retry = setTimeout(schedule, RETRY_MS);
      })
      .finally(() => {
        running = false;
        if (again) schedule();
      });
  };

  const { watchCluster } = await import('../../cluster/etcd-watch.js');
  // A change only this host made (its own container came or went) needs no
  // pass: the command already did the work, and a pass would hold the peers
  // lock that very command is about to take.
  const onChange = (change: ClusterChange) => {
    if (changesPeersOf(change, config.prefix, vtep)) schedule();
  };
  const watcher = await watchCluster(config, onChange, (state, detail) => {
    log(state === 'connected' ? 'watching the cluster store' : `lost the cluster store (${detail ?? 'disconnected'}); keeping the forwarding entries as they are`);
    if (state === 'connected') schedule();
  });
  const timer = setInterval(schedule, RESYNC_MS);
  schedule();

  return new Promise<number>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`stopping on ${signal}`);
      clearInterval(timer);
      clearTimeout(retry);
      void watcher.close().finally(() => {
        store.close();
        releaseAgentPidFile(paths);
        resolve(0);
      });
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => schedule());
  });
}
