// The Docker CLI habits course material relies on, run against real sandboxes
// in a throwaway lab: the container group, exec's exit statuses, listing
// formats and filters, rename, and a default bridge named like Docker's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../helpers/lab.js';

let lab: Lab;

beforeAll(async () => {
  lab = Lab.create({ tag: 'cli' });
  await lab.plumbOk(['network', 'create', '--subnet', '10.81.0.0/24', 'habits']);
  // A label that is not busybox/alpine: the command runs from the host's filesystem.
  await lab.plumbOk(['run', '-d', '--name', 'web', '--network', 'habits', '-p', '8080:80', 'nginx', 'sleep', '600']);
  await lab.plumbOk(['run', '-d', '--name', 'quiet', 'nginx']);
});

afterAll(async () => {
  await lab?.teardown();
});

describe('the container group', () => {
  it('container ls lists what ps lists (seed 001)', async () => {
    const ls = await lab.plumbOk(['container', 'ls']);
    expect(ls.split('\n')[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(ls).toMatch(/\bweb$/m);
    expect(ls).toMatch(/\bquiet$/m);
    expect(await lab.plumbOk(['container', 'ls', '-q'])).toBe(await lab.plumbOk(['ps', '-q']));
  });
  it('container inspect looks up containers only', async () => {
    expect((await lab.plumbOk(['container', 'inspect', '-f', '{{.Name}}', 'web'])).trim()).toBe('/web');
    const r = await lab.plumb(['container', 'inspect', 'habits']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error: No such container: habits');
    expect((await lab.plumbOk(['inspect', '--type', 'network', '-f', '{{.Name}}', 'habits'])).trim()).toBe('habits');
  });
});

describe('exec exit statuses', () => {
  it('127 for a command that does not exist, 126 for one that cannot run', async () => {
    const missing = await lab.plumb(['exec', 'web', 'no-such-command-here']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toMatch(/executable file not found in \$PATH/);
    const notExecutable = await lab.plumb(['exec', 'web', '/etc/hostname']);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stderr).toMatch(/permission denied/i);
    expect((await lab.plumb(['exec', 'web', 'sh', '-c', 'exit 3'])).code).toBe(3);
  });
});

describe('listings', () => {
  it('ps --format json prints one JSON object per container', async () => {
    const lines = (await lab.plumbOk(['ps', '--format', 'json'])).trim().split('\n');
    const rows = lines.map((l) => JSON.parse(l) as Record<string, string>);
    const web = rows.find((r) => r.Names === 'web')!;
    expect(web.Ports).toBe('0.0.0.0:8080->80/tcp');
    expect(web.Networks).toBe('habits');
    expect(Object.keys(web)).toEqual([...Object.keys(web)].sort());
  });
  it('ps --filter network= and name= pick containers', async () => {
    expect((await lab.plumbOk(['ps', '--filter', 'network=habits', '--format', '{{.Names}}'])).trim()).toBe('web');
    expect((await lab.plumbOk(['ps', '-f', 'name=qui', '--format', '{{.Names}}'])).trim()).toBe('quiet');
  });
  it('network ls --format json', async () => {
    const rows = (await lab.plumbOk(['network', 'ls', '--format', 'json'])).trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.find((r) => r.Name === 'habits')).toMatchObject({ Driver: 'bridge', Scope: 'local', Internal: 'false' });
  });
  it("network ls --filter (dangling counts containers, type, name), -q and --no-trunc, as Docker's", async () => {
    await lab.plumbOk(['network', 'create', 'spare']);
    const names = async (...args: string[]) => (await lab.plumbOk(['network', 'ls', ...args, '--format', '{{.Name}}'])).trim().split('\n');
    // habits has web on it: not dangling. Built-in networks never are.
    expect(await names('--filter', 'dangling=true')).toEqual(['spare']);
    expect(await names('--filter', 'dangling=false')).toEqual(expect.arrayContaining(['bridge', 'habits', 'host', 'none']));
    expect(await names('--filter', 'dangling=false')).not.toContain('spare');
    expect(await names('--filter', 'type=builtin')).toEqual(['bridge', 'host', 'none']);
    expect(await names('-f', 'type=custom', '-f', 'name=ha')).toEqual(['habits']);
    const id = JSON.parse(await lab.plumbOk(['network', 'inspect', 'spare']))[0].Id as string;
    expect((await lab.plumbOk(['network', 'ls', '-q', '--filter', 'name=spare'])).trim()).toBe(id.slice(0, 12));
    expect((await lab.plumbOk(['network', 'ls', '-q', '--no-trunc', '--filter', 'name=spare'])).trim()).toBe(id);
    const bad = await lab.plumb(['network', 'ls', '--filter', 'colour=red']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("Invalid filter 'colour'");
    await lab.plumbOk(['network', 'rm', 'spare']);
  });
  it("system info counts containers by state and networks by driver, like docker info", async () => {
    const all = (await lab.plumbOk(['ps', '-a', '-q'])).trim().split('\n').filter(Boolean).length;
    const running = (await lab.plumbOk(['ps', '-q'])).trim().split('\n').filter(Boolean).length;
    const info = await lab.plumbOk(['system', 'info']);
    expect(info).toContain(`Containers: ${all}\n Running: ${running}\n Paused: 0\n Stopped: ${all - running}\n`);
    const bridges = (await lab.plumbOk(['network', 'ls', '--filter', 'driver=bridge', '-q'])).trim().split('\n').length;
    expect(info).toMatch(new RegExp(`^Networks: \\d+\n bridge: ${bridges}\n host: 1\n null: 1$`, 'm'));
  });
  it('the classic IP lookup template works', async () => {
    const ip = (await lab.plumbOk(['inspect', '-f', '{{(index .NetworkSettings.Networks "habits").IPAddress}}', 'web'])).trim();
    expect(ip).toBe('10.81.0.2');
    const all = (await lab.plumbOk(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}{{end}}', 'web'])).trim();
    expect(all).toBe('habits=10.81.0.2');
    expect((await lab.plumbOk(['inspect', '-f', '{{.Config.ExposedPorts}}', 'web'])).trim()).toBe('map[80/tcp:{}]');
  });
  it('a stopped container shows no ports', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'gone', '-p', '8081:81', 'nginx', 'sleep', '600']);
    await lab.plumbOk(['stop', '-t', '1', 'gone']);
    const row = (await lab.plumbOk(['ps', '-a', '--filter', 'name=gone', '--format', '{{.Status}}|{{.Ports}}'])).trim();
    expect(row).toMatch(/^Exited \(\d+\) .*\|$/);
    await lab.plumbOk(['rm', 'gone']);
  });
});

describe('rename', () => {
  it('moves the name for ip netns and the embedded DNS', async () => {
    await lab.plumbOk(['run', '-d', '--name', 'before', '--network', 'habits', 'nginx', 'sleep', '600']);
    await lab.plumbOk(['rename', 'before', 'after']);
    expect((await lab.plumbOk(['ps', '--format', '{{.Names}}'])).split('\n')).toContain('after');
    const names = lab.execSync(['ls', lab.netnsDir]).stdout.split('\n');
    expect(names).toContain('after');
    expect(names).not.toContain('before');
    expect((await lab.plumb(['exec', 'web', 'getent', 'hosts', 'after'])).stdout).toMatch(/^10\.81\.0\.\d+\s/);
    // The old name is gone from the embedded DNS (dig bounded to one 2 s try: an unknown name is forwarded upstream).
    expect((await lab.plumb(['exec', 'web', 'dig', '+short', '+time=2', '+tries=1', 'before'])).stdout).not.toMatch(/^\d+\.\d+\.\d+\.\d+$/m);
    expect((await lab.plumb(['exec', 'web', 'dig', '+short', '+time=2', '+tries=1', 'after'])).stdout).toMatch(/^10\.81\.0\.\d+$/m);
    const clash = await lab.plumb(['rename', 'after', 'web']);
    expect(clash.code).toBe(1);
    expect(clash.stderr).toMatch(/The container name "\/web" is already in use/);
    await lab.plumbOk(['rm', '-f', 'after']);
  });
});

describe('the default bridge name (dockerd --bridge)', () => {
  it('is docker0 when the config says so, and never takes over a docker0 plumb did not make', async () => {
    const other = Lab.create({ tag: 'brn', wan: false });
    try {
      const env = { PLUMB_BRIDGE_NAME: 'docker0' };
      // Someone else's docker0 is there first: plumb refuses and changes nothing.
      other.execSync(['ip', 'link', 'add', 'docker0', 'type', 'bridge']);
      const refused = await other.plumb(['run', '-d', '--name', 'aa', 'nginx'], { env });
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/a link named docker0 already exists on this host: set "bridge-name"/);
      expect(other.ipJson<unknown[]>(['link', 'show', 'master', 'docker0'])).toEqual([]);
      other.execSync(['ip', 'link', 'del', 'docker0']);
      // Free: the default bridge is docker0, with the container's veth on it.
      await other.plumbOk(['run', '-d', '--name', 'aa', 'nginx'], { env });
      expect(other.ipJson<unknown[]>(['link', 'show', 'master', 'docker0'])).toHaveLength(1);
      expect(JSON.parse(await other.plumbOk(['network', 'inspect', 'bridge'], { env }))[0].Options['com.docker.network.bridge.name']).toBe('docker0');
    } finally {
      await other.teardown();
    }
  });
});
