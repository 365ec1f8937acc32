// Real packets sent from inside a namespace to confirm a diagnosis: ping,
// a don't-fragment ping of a given size (path MTU), a TCP connect, a UDP
// datagram, a DNS query. Each is one short program bounded in time; the
// caller decides where they may go (only addresses of its own lab).
import { runIn } from './programs.js';
import type { Netns } from './netns.js';

export interface ProbeResult {
  ok: boolean;
  /** What came back, in a few words: "reply in 0.1 ms", "connection refused", "timed out". */
  detail: string;
}

const PROBE_DEADLINE_S = 3;

export async function pingProbe(ns: Pick<Netns, 'path'>, ip: string, opts: { size?: number; dontFragment?: boolean } = {}): Promise<ProbeResult> {
  const argv = ['ping', '-n', '-c', '1', '-w', String(PROBE_DEADLINE_S)];
  if (opts.size !== undefined) argv.push('-s', String(opts.size));
  if (opts.dontFragment) argv.push('-M', 'do');
  argv.push(ip);
  const r = await runIn(ns, argv, { timeoutMs: (PROBE_DEADLINE_S + 2) * 1000 });
  if (r.code === 0) {
    const t = /time=([\d.]+ ms)/.exec(r.stdout)?.[1];
    return { ok: true, detail: t ? `reply in ${t}` : 'reply' };
  }
  const mtu = /mtu ?= ?(\d+)/i.exec(r.stdout + r.stderr)?.[1];
  if (mtu) return { ok: false, detail: `too big: a link on the way has MTU ${mtu}` };
  const unreachable = /Unreachable|unreachable/.exec(r.stdout + r.stderr);
  if (unreachable) return { ok: false, detail: 'destination unreachable' };
  return { ok: false, detail: (r.stderr.trim().split('\n')[0] || 'no reply').replace(/^ping: /, '') };
}

export async function tcpProbe(ns: Pick<Netns, 'path'>, ip: string, port: number): Promise<ProbeResult & { refused?: boolean }> {
  const r = await runIn(ns, ['socat', '-T', '1', '/dev/null', `TCP:${ip}:${port},connect-timeout=${PROBE_DEADLINE_S}`], {
    timeoutMs: (PROBE_DEADLINE_S + 2) * 1000,
  });
  if (r.code === 0) return { ok: true, detail: 'connected' };
  if (/refused/i.test(r.stderr)) return { ok: false, refused: true, detail: 'connection refused (the path works, nothing listens)' };
  if (/timed out|timeout/i.test(r.stderr) || r.timedOut) return { ok: false, detail: 'no answer (timed out)' };
  if (/unreachable/i.test(r.stderr)) return { ok: false, detail: 'unreachable' };
  return { ok: false, detail: r.stderr.trim().split('\n').pop()?.replace(/^.*E /, '') || `socat exit ${r.code}` };
}

/** Sends one datagram and listens briefly: an ICMP port-unreachable shows as refused; silence is not a failure for UDP. */
export async function udpProbe(ns: Pick<Netns, 'path'>, ip: string, port: number): Promise<ProbeResult & { refused?: boolean }> {
  const r = await runIn(ns, ['socat', '-T', '1', 'STDIO', `UDP:${ip}:${port}`], { input: 'plumb doctor probe\n', timeoutMs: 5000 });
  if (/refused/i.test(r.stderr)) return { ok: false, refused: true, detail: 'port unreachable (nothing listens)' };
  if (r.stdout.length) return { ok: true, detail: 'answered' };
  return { ok: true, detail: 'sent, no answer (UDP needs none)' };
}

export async function dnsProbe(ns: Pick<Netns, 'path'>, server: string, name: string, port = 53): Promise<ProbeResult & { addresses?: string[] }> {
  const r = await runIn(ns, ['dig', `@${server}`, '-p', String(port), '+time=2', '+tries=2', '+short', name], { timeoutMs: 8000 });
  if (r.code === 0) {
    const addresses = r.stdout.split('\n').filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
    if (addresses.length) return { ok: true, detail: `${name} is ${addresses.join(', ')}`, addresses };
    return { ok: false, detail: `${server} answered without an address for ${name}` };
  }
  if (/timed out|no servers could be reached/i.test(r.stdout + r.stderr)) return { ok: false, detail: `no answer from ${server}:${port}` };
  return { ok: false, detail: (r.stdout + r.stderr).trim().split('\n').pop() || `dig exit ${r.code}` };
}
