// Legacy links with inter-container traffic off on the default bridge, like
// `dockerd --icc=false` (here PLUMB_ICC=false): nothing on the bridge talks to
// anything else, except that a link opens exactly the target's exposed ports
// to the linking container. Checked with real TCP connections and pings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../helpers/lab.js';

// Containers here run the host's programs (socat, dig, ip -j): the label debian keeps the host's
// filesystem (busybox and alpine would run busybox's).

let lab: Lab;
const env = { PLUMB_ICC: 'false' };

const plumb = (args: string[]) => lab.plumb(args, { env });
async function plumbOk(args: string[]): Promise<string> {
  const r = await plumb(args);
  if (r.code !== 0) throw new Error(`plumb ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Does a TCP connection from `from` to `host`:`port` open? (netcat -z, 1 s) */
async function connects(from: string, host: string, port: number): Promise<boolean> {
  return (await plumb(['exec', from, 'nc', '-z', '-w1', host, String(port)])).code === 0;
}

async function ipOf(name: string): Promise<string> {
  return (await plumbOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
}

beforeAll(async () => {
  lab = Lab.create({ tag: 'icc' });
  // db listens on 80 (exposed) and 81 (not exposed).
  await plumbOk(['run', '-d', '--name', 'db', '--expose', '80', 'debian', '/bin/sh', '-c', 'nc -lk 80 & nc -lk 81 & wait']);
  await plumbOk(['run', '-d', '--name', 'web', '--link', 'db:database', 'debian']);
  await plumbOk(['run', '-d', '--name', 'other', 'debian']);
  const db = await ipOf('db');
  for (let i = 0; i < 50; i++) {
    const r = await lab.exec(['nsenter', `--net=${lab.netnsDir}/db`, 'ss', '-Hltn'], lab.host);
    if (r.stdout.includes(':80 ') && r.stdout.includes(':81 ')) return;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error(`db (${db}) never listened on 80 and 81`);
});

afterAll(async () => {
  await lab.teardown();
});

describe('default bridge with icc off (PLUMB_ICC=false, as dockerd --icc=false)', () => {
  it('makes the default bridge with enable_icc=false and drops traffic between its containers', async () => {
    const opts = JSON.parse(await plumbOk(['network', 'inspect', 'bridge']))[0].Options;
    expect(opts['com.docker.network.bridge.enable_icc']).toBe('false');
    expect(lab.iptablesSave()).toMatch(/^-A PLUMB-FORWARD -i plumb0 -o plumb0 .*-j DROP$/m);
    expect(await connects('other', await ipOf('db'), 80)).toBe(false);
  });

  it('--link db:database opens exactly db\'s exposed port 80 to web, and nothing else', async () => {
    expect(await connects('web', 'database', 80)).toBe(true);
    expect(await connects('web', 'database', 81)).toBe(false);
    expect((await plumb(['exec', 'web', 'ping', '-c1', '-W1', 'database'])).code).not.toBe(0);
    // One way: db cannot open connections to web, nor can other reach db's linked port.
    expect(await connects('db', await ipOf('web'), 80)).toBe(false);
    expect(await connects('other', await ipOf('db'), 80)).toBe(false);
    const rules = lab.iptablesSave().split('\n').filter((l) => l.includes('plumb: link web->db 80/tcp'));
    expect(rules).toHaveLength(2);
  });

  it('removing web withdraws the link rules', async () => {
    await plumbOk(['rm', '-f', 'web']);
    expect(lab.iptablesSave()).not.toContain('plumb: link web->db');
  });
});
