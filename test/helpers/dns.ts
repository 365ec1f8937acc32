// DNS from the tests' side: `dig` run inside a sandbox and read back, and a
// fake upstream DNS server in a lab namespace (the wan) that logs every
// question it gets, so a test can tell a name the embedded DNS answered itself
// from one it forwarded.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, type RunResult } from './lab.js';

export interface Dig {
  status: string;
  answers: Array<{ name: string; type: string; value: string }>;
}

/**
 * `dig` inside a container, through `exec` (a function running `plumb exec
 * CONTAINER ...` on the right host): dig reads the sandbox's own
 * /etc/resolv.conf (127.0.0.11 on user-defined and overlay networks).
 */
export async function dig(
  exec: (argv: string[]) => Promise<RunResult>,
  name: string,
  type = 'A',
  opts: { extra?: string[]; timeSeconds?: number } = {},
): Promise<Dig> {
  const query = type === 'PTR' ? ['-x', name] : [name, type];
  const r = await exec(['dig', '+tries=1', `+time=${opts.timeSeconds ?? 3}`, '+nocmd', '+noall', '+comments', '+answer', ...(opts.extra ?? []), ...query]);
  const status = /status: (\w+)/.exec(r.stdout)?.[1] ?? `no reply (exit ${r.code}): ${r.stdout.trim()} ${r.stderr.trim()}`;
  const answers = r.stdout
    .split('\n')
    .filter((l) => l && !l.startsWith(';'))
    .map((l) => l.split(/\s+/))
    .map((w) => ({ name: w[0]!, type: w[3]!, value: w[4]! }));
  return { status, answers };
}

/** The A records of an answer, sorted. */
export const addresses = (d: Dig): string[] => d.answers.filter((a) => a.type === 'A').map((a) => a.value).sort();

/** One question the fake upstream got: the address it was sent to, who sent it, and the name. */
export interface UpstreamQuestion {
  server: string;
  from: string;
  name: string;
}

/** Names (a zone: the name itself and every name below it) a server answers with an A record. */
export interface UpstreamZone {
  server: string;
  zone: string;
  ip: string;
}

const script = (servers: string[], zones: UpstreamZone[]) => `
import { createSocket } from 'node:dgram';
import { aRecord, buildResponse, parseQuery, RCODE, TYPE } from '${join(REPO, 'dist', 'dns', 'message.js')}';
const servers = ${JSON.stringify(servers)};
const zones = ${JSON.stringify(zones)};
let ready = 0;
for (const server of servers) {
  const sock = createSocket('udp4');
  sock.on('message', (msg, r) => {
    let q;
    try { q = parseQuery(msg); } catch { return; }
    const name = q.question.name.toLowerCase();
    console.log(JSON.stringify({ server, from: r.address, name }));
    const z = zones.find((z) => z.server === server && (name === z.zone || name.endsWith('.' + z.zone)));
    const reply = z && q.question.type === TYPE.A
      ? buildResponse(q, RCODE.NOERROR, [aRecord(z.ip, 60)])
      : buildResponse(q, z ? RCODE.NOERROR : RCODE.NXDOMAIN);
    sock.send(reply, r.port, r.address);
  });
  sock.bind(53, server, () => { if (++ready === servers.length) console.log('ready'); });
}
`;

/**
 * A DNS server on UDP port 53 of each of `servers` (addresses of the
 * namespace `netnsFile`): A records for `zones`, NXDOMAIN for anything else.
 * Every question is logged in `asked`. Stop it with stop(): it is the tests'
 * own process, ended by its PID.
 */
export class FakeUpstream {
  readonly asked: UpstreamQuestion[] = [];

  private constructor(private readonly child: ChildProcess) {}

  static async start(netnsFile: string, servers: string[], zones: UpstreamZone[] = []): Promise<FakeUpstream> {
    const child = spawn('nsenter', [`--net=${netnsFile}`, process.execPath, '--input-type=module', '-e', script(servers, zones)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const upstream = new FakeUpstream(child);
    try {
      await new Promise<void>((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error('fake upstream did not start')), 10_000);
        child.once('exit', (code) => reject(new Error(`fake upstream exited (${code})`)));
        child.stdout!.on('data', (d: Buffer) => {
          buf += d.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (line === 'ready') {
              clearTimeout(timer);
              resolve();
            } else if (line.startsWith('{')) upstream.asked.push(JSON.parse(line) as UpstreamQuestion);
          }
        });
      });
    } catch (err) {
      upstream.stop();
      throw err;
    }
    return upstream;
  }

  /** The names asked since the log had `since` entries. */
  namesSince(since: number): string[] {
    return this.asked.slice(since).map((q) => q.name);
  }

  stop(): void {
    if (this.child.pid && this.child.exitCode === null && this.child.signalCode === null) process.kill(this.child.pid, 'SIGKILL');
  }
}

/**
 * Makes every plumb command this test process runs from now on take `nameservers`
 * as the host's resolv.conf (PLUMB_HOST_RESOLV_CONF, a file written in `dir`;
 * none at all for an empty list), so no resolver ever forwards to the machine's
 * own. Returns the undo, for afterAll.
 */
export function useHostResolvConf(dir: string, nameservers: string[]): () => void {
  const file = join(dir, 'host-resolv.conf');
  writeFileSync(file, nameservers.map((ns) => `nameserver ${ns}\n`).join(''));
  const saved = process.env.PLUMB_HOST_RESOLV_CONF;
  process.env.PLUMB_HOST_RESOLV_CONF = file;
  return () => {
    if (saved === undefined) delete process.env.PLUMB_HOST_RESOLV_CONF;
    else process.env.PLUMB_HOST_RESOLV_CONF = saved;
  };
}
