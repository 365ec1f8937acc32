// plumb's command line: Docker-shaped commands. Each command's module is
// imported only when that command runs, to keep start-up short.
import { Command, Option } from 'commander';
import { DockerCommand } from './docker-command.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface GlobalOptions {
  root?: string;
  explain?: boolean;
  dryRun?: boolean;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs an action module lazily; turns errors into one line and an exit code. */
function lazy<A extends unknown[]>(load: () => Promise<(...args: A) => Promise<number | void>>) {
  return async (...args: A) => {
    const { reportError } = await import('./output.js');
    try {
      const { refuseControlCharacters } = await import('./parse/control-guard.js');
      refuseControlCharacters(args[args.length - 1] as Command);
      const fn = await load();
      const code = await fn(...args);
      if (typeof code === 'number' && code !== 0) process.exitCode = code;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Global options that take a value: the word after them is not a command. */
const VALUED_GLOBALS = new Set(['--root', '--cluster-store', '--cluster-advertise']);

/**
 * The command word of `args` (argv without node and the script), or
 * undefined when help or the version is asked for at the top level, or no
 * command is given: then every command is defined.
 */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUED_GLOBALS.has(a)) i++;
    else if (['-h', '--help', '-v', '--version'].includes(a)) return undefined;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * The commands that act on containers. Docker offers them twice, as
 * `docker ps` and `docker container ls`, `docker run` and `docker container
 * run`: course material uses both, so both reach the same actions.
 */
function defineContainerCommands(parent: Command, want: (names: string) => boolean, inGroup: boolean): void {
  const runLike = (cmd: Command) =>
    cmd
      .argument('<image>', 'a label (plumb has no images)')
      .argument('[command...]', 'a command to run inside the sandbox (from the busybox root for busybox/alpine, else the host)')
      .passThroughOptions()
      .option('--name <name>', 'assign a name to the container')
      .addOption(new Option('--network <network>', 'connect a container to a network').default('bridge'))
      .option('--net <network>', 'alias of --network (the older spelling the tutorials use)')
      .option('-h, --hostname <name>', 'container host name')
      .option('--rm', 'automatically remove the container when it exits')
      .option('-i, --interactive', 'keep STDIN open')
      .option('-t, --tty', 'allocate a pseudo-TTY')
      .option('-p, --publish <spec>', "publish a container's port(s) to the host", collect, [])
      .option('-P, --publish-all', 'publish all exposed ports to random ports')
      .option('--expose <port>', 'expose a port or a range of ports', collect, [])
      .option('--link <name[:alias]>', 'add link to another container', collect, [])
      .option('-e, --env <k=v>', 'set environment variables', collect, [])
      .option('--ip <ip>', 'IPv4 address (e.g. 172.30.100.104)')
      .option('--mac-address <mac>', 'container MAC address (e.g. 92:d0:c6:0a:29:33)')
      .option('--network-alias <alias>', 'add network-scoped alias for the container', collect, [])
      .option('--dns <ip>', 'set custom DNS servers', collect, [])
      .option('--dns-search <domain>', 'set custom DNS search domains', collect, [])
      .option('--dns-option <opt>', 'set DNS options', collect, [])
      .option('--add-host <host:ip>', 'add a custom host-to-IP mapping', collect, []);

  if (want('run|create')) {
    runLike(parent.command('run').description('Run a command in a new container'))
      .option('-d, --detach', 'run container in background and print container ID')
      .option('--detach-keys <keys>', 'key sequence for detaching a container (default ctrl-p,ctrl-q)')
      .action(lazy(async () => (await import('./commands/run.js')).run));
    runLike(parent.command('create').description('Create a new container')).action(
      lazy(async () => (await import('./commands/run.js')).create),
    );
  }

  if (want('exec')) {
    parent
      .command('exec')
      .description('Run a command in a running container')
      .argument('<container>')
      .argument('<command...>')
      .passThroughOptions()
      .option('-i, --interactive', 'keep STDIN open')
      .option('-t, --tty', 'allocate a pseudo-TTY (uses the caller terminal)')
      .option('-e, --env <k=v>', 'set environment variables', collect, [])
      .option('-d, --detach', 'detached mode: run command in the background')
      .action(lazy(async () => (await import('./commands/containers.js')).exec));
  }

  if (want('attach')) {
    parent
      .command('attach')
      .description('Attach local standard input, output, and error streams to a running container')
      .argument('<container>')
      .option('--detach-keys <keys>', 'override the key sequence for detaching a container (default ctrl-p,ctrl-q)')
      .option('--no-stdin', 'do not attach STDIN')
      .action(lazy(async () => (await import('./commands/lifecycle.js')).attach));
  }

  if (want('logs')) {
    parent
      .command('logs')
      .description('Fetch the logs of a container')
      .argument('<container>')
      .option('-f, --follow', 'follow log output')
      .option('-n, --tail <n>', 'number of lines to show from the end of the logs', 'all')
      .option('-t, --timestamps', 'show timestamps')
      .action(lazy(async () => (await import('./commands/lifecycle.js')).logs));
  }

  if (want('wait')) {
    parent
      .command('wait')
      .description('Block until one or more containers stop, then print their exit codes')
      .argument('<container...>')
      .action(lazy(async () => (await import('./commands/lifecycle.js')).wait));
  }

  if (want('kill')) {
    parent
      .command('kill')
      .description('Kill one or more running containers')
      .argument('<container...>')
      .option('-s, --signal <signal>', 'signal to send to the container', 'KILL')
      .action(lazy(async () => (await import('./commands/lifecycle.js')).kill));
  }

  if (want('top')) {
    parent
      .command('top')
      .description('Display the running processes of a container')
      .argument('<container>')
      .argument('[ps-options...]')
      .passThroughOptions()
      .action(lazy(async () => (await import('./commands/lifecycle.js')).top));
  }

  if (want('ps')) {
    parent
      .command(inGroup ? 'ls' : 'ps')
      .aliases(inGroup ? ['ps', 'list'] : [])
      .description('List containers')
      .option('-a, --all', 'show all containers (default shows just running)')
      .option('-f, --filter <filter>', 'filter output based on conditions provided (name, id, status, exited, network, label, ancestor, publish, expose, before, since)', collect, [])
      .option('-n, --last <n>', 'show n last created containers (includes all states)')
      .option('-l, --latest', 'show the latest created container (includes all states)')
      .option('-s, --size', 'display total file sizes')
      .option('-q, --quiet', 'only display container IDs')
      .option('--no-trunc', 'do not truncate output')
      .option('--format <template>', "pretty-print containers using a Go template, or 'json'")
      .action(lazy(async () => (await import('./commands/containers.js')).ps));
  }

  if (want('port')) {
    parent
      .command('port')
      .description('List port mappings or a specific mapping for the container')
      .argument('<container>')
      .argument('[port]')
      .action(lazy(async () => (await import('./commands/containers.js')).port));
  }

  if (want('stop|restart')) {
    for (const [name, description] of [
      ['stop', 'Stop one or more running containers'],
      ['restart', 'Restart one or more containers'],
    ] as const) {
      parent
        .command(name)
        .description(description)
        .argument('<container...>')
        .option('-t, --time <seconds>', 'seconds to wait for stop before killing it', '10')
        .action(lazy(async () => (await import('./commands/containers.js'))[name]));
    }
  }

  if (want('start')) {
    parent
      .command('start')
      .description('Start one or more stopped containers')
      .argument('<container...>')
      .action(lazy(async () => (await import('./commands/containers.js')).start));
  }

  if (want('rm')) {
    parent
      .command('rm')
      .aliases(inGroup ? ['remove'] : [])
      .description('Remove one or more containers')
      .argument('<container...>')
      .option('-f, --force', 'force the removal of a running container')
      .action(lazy(async () => (await import('./commands/containers.js')).remove));
  }

  if (want('rename')) {
    parent
      .command('rename')
      .description('Rename a container')
      .argument('<container>')
      .argument('<new-name>')
      .action(lazy(async () => (await import('./commands/containers.js')).rename));
  }

  if (want('inspect')) {
    parent
      .command('inspect')
      .description('Return low-level information on containers or networks')
      .argument('<name...>')
      .option('-f, --format <template>', "format the output using the given Go template, or 'json'")
      .option('--type <type>', 'return JSON for the given type only (container or network)', inGroup ? 'container' : undefined)
      .action(lazy(async () => (await import('./commands/containers.js')).inspect));
  }

}

/**
 * The program, with every command, or only the one named `only` (when it is
 * a command): defining all of them, with their options, costs a few ms of
 * every start, and a run needs just its own. Help and errors about an unknown
 * command still see them all.
 */
export function buildProgram(only?: string): Command {
  const all = !only || !COMMANDS.includes(only);
  const want = (names: string) => all || names.split('|').includes(only);
  const program = new DockerCommand('plumb')
    .description("Docker's container networking, built from kernel primitives, that shows its work")
    .version(version(), '-v, --version')
    .option('--root <dir>', 'keep state and runtime files below this directory (or PLUMB_ROOT)')
    .option('--explain', 'print every change as the equivalent ip/bridge/iptables command, as it happens (--explain=brief: commands only)')
    .option('--dry-run', 'print the kernel changes an operation would make, and make none')
    .option('--cluster-store <url>', 'cluster store for overlay networks, e.g. etcd://192.168.205.10:2379 (or PLUMB_CLUSTER_STORE)')
    .option('--cluster-advertise <ip|iface>', "this host's address on the underlay, as an IP or an interface (or PLUMB_CLUSTER_ADVERTISE)")
    .enablePositionalOptions();

  if (want('network')) {
    const network = program.command('network').description('Manage networks');
    network
      .command('create')
      .description('Create a network')
      .argument('<name>')
      .option('-d, --driver <driver>', 'driver to manage the network', 'bridge')
      .option('--subnet <cidr>', 'subnet in CIDR format', collect, [])
      .option('--gateway <ip>', 'IPv4 gateway for the subnet', collect, [])
      .option('--ip-range <cidr>', 'allocate container addresses from a sub-range', collect, [])
      .option('--aux-address <name=ip>', 'auxiliary IPv4 address used by the network driver', collect, [])
      .option('--internal', 'restrict external access to the network')
      .option('--attachable', 'enable manual container attachment')
      .option('--label <k=v>', 'set metadata on a network', collect, [])
      .option('-o, --opt <k=v>', 'set driver specific options', collect, [])
      .action(lazy(async () => (await import('./commands/network.js')).create));
    network
      .command('ls')
      .alias('list')
      .description('List networks')
      .option('-q, --quiet', 'only display network IDs')
      .option('--no-trunc', 'do not truncate the output')
      .option('-f, --filter <filter>', 'provide filter values (e.g. driver=bridge)', collect, [])
      .option('--format <template>', "pretty-print networks using a Go template, or 'json'")
      .action(lazy(async () => (await import('./commands/network.js')).list));
    network
      .command('connect')
      .description('Connect a container to a network')
      .argument('<network>')
      .argument('<container>')
      .option('--ip <ip>', 'IPv4 address (e.g. 172.30.100.104)')
      .option('--alias <alias>', 'add network-scoped alias for the container', collect, [])
      .action(lazy(async () => (await import('./commands/connect.js')).connect));
    network
      .command('disconnect')
      .description('Disconnect a container from a network')
      .argument('<network>')
      .argument('<container>')
      .option('-f, --force', 'force the container to disconnect from a network')
      .action(lazy(async () => (await import('./commands/connect.js')).disconnect));
    network
      .command('inspect')
      .description('Display detailed information on one or more networks')
      .argument('<network...>')
      .option('-f, --format <template>', "format the output using the given Go template, or 'json'")
      // Docker's --verbose adds swarm service details; plumb's inspect always carries its diagnostics (overlay peers and their entries).
      .option('-v, --verbose', 'verbose output for diagnostics (plumb always includes them)')
      .action(lazy(async () => (await import('./commands/network.js')).inspect));
    network
      .command('rm')
      .alias('remove')
      .description('Remove one or more networks')
      .argument('<network...>')
      .action(lazy(async () => (await import('./commands/network.js')).remove));
    network
      .command('prune')
      .description('Remove all unused networks')
      .option('-f, --force', 'do not prompt for confirmation')
      .action(lazy(async () => (await import('./commands/network.js')).prune));
  }

  defineContainerCommands(program, want, false);
  if (want('container')) {
    const container = program.command('container').description('Manage containers');
    defineContainerCommands(container, () => true, true);
  }

  if (want('completion')) {
    program
      .command('completion')
      .description('Print a shell completion script: source <(plumb completion bash)')
      .argument('<shell>', 'bash or zsh')
      .action(async (shell: string) => {
        const { bashCompletion, zshCompletion } = await import('./completion.js');
        if (shell !== 'bash' && shell !== 'zsh') {
          process.stderr.write(`Error: unsupported shell "${shell}": use bash or zsh\n`);
          process.exitCode = 1;
          return;
        }
        const full = buildProgram();
        process.stdout.write(shell === 'bash' ? bashCompletion(full) : zshCompletion(full));
      });
  }

  if (want('version')) {
    program
      .command('version')
      .description('Show the plumb version, the Docker API it follows, the kernel and the iptables backend')
      .option('-f, --format <template>', "format the output using the given Go template, or 'json'")
      .action(lazy(async () => (await import('./commands/version.js')).makeVersion(version())));
  }

  if (want('graph')) {
    program
      .command('graph')
      .description('Draw the network as it is in the kernel: bridges, veth cables, sandboxes, ports, NAT, DNS, overlays, drift')
      .argument('[name...]', 'only these networks and containers')
      .option('--format <format>', 'ascii, dot, mermaid, json, svg or png', 'ascii')
      .option('-o, --output <file>', 'write the picture to this file')
      .action(lazy(async () => (await import('./commands/graph.js')).graph));
  }

  // The flags reach the engine (and the agent it starts) the same way as the environment does.
  program.hook('preAction', (cmd) => {
    const g = cmd.opts<{ clusterStore?: string; clusterAdvertise?: string }>();
    if (g.clusterStore) process.env.PLUMB_CLUSTER_STORE = g.clusterStore;
    if (g.clusterAdvertise) process.env.PLUMB_CLUSTER_ADVERTISE = g.clusterAdvertise;
  });
  if (want('agent')) {
    program
      .command('agent')
      .description("Keep this host's overlay networks in line with the cluster store (started on demand; runs in the foreground)")
      .action(lazy(async () => (await import('./commands/agent.js')).agent));
  }

  if (want('system')) {
    const system = program.command('system').description('Manage plumb itself');
    system
      .command('info')
      .description('Show kernel features, the firewall backend, plumb paths, and counts of containers and networks')
      .action(lazy(async () => (await import('./commands/system.js')).info));
    system
      .command('reset')
      .description('Remove everything plumb made: sandboxes, processes, networks, rules, sysctls')
      .option('--verify', 'then compare the host with the snapshot taken before plumb first changed it')
      .action(lazy(async () => (await import('./commands/system.js')).reset));
    system
      .command('check')
      .description('Compare what the store says should exist with what the kernel has; exit 1 on any difference')
      .action(lazy(async () => (await import('./commands/system.js')).check));
    system
      .command('gc')
      .description('Repair both ways: re-create what is missing, remove what plumb made but no longer owns')
      .action(lazy(async () => (await import('./commands/system.js')).gc));
  }

  if (want('doctor')) {
    program
      .command('doctor')
      .description('Check every hop plumb built (or one path FROM -> TO[:PORT[/PROTO]]) in the kernel, with real probes; exit 0 only when healthy')
      .argument('[from]', 'a container, host, or an outside IPv4 address')
      .argument('[to]', 'a container, host, or an IPv4 address, optionally :PORT or :PORT/udp')
      .option('--format <format>', 'json for a machine-readable report')
      .action(lazy(async () => (await import('./commands/doctor.js')).doctor));
  }
  if (want('trace')) {
    program
      .command('trace')
      .description("Send one packet FROM -> TO:PORT[/PROTO] and print its way through netfilter with the kernel's tracing")
      .argument('<from>', 'a container, host, or an outside IPv4 address (then send the packet from there yourself)')
      .argument('<to>', 'a container or host, with :PORT or :PORT/udp')
      .option('--format <format>', 'json for a machine-readable report')
      .option('--wait <seconds>', 'how long to wait for the packet', '10')
      .action(lazy(async () => (await import('./commands/doctor.js')).trace));
  }

  // The embedded DNS resolver; plumb starts it itself (hidden from help).
  if (want('dns')) {
    program
      .command('dns', { hidden: true })
      .command('serve')
      .requiredOption('--state <dir>', 'state dir (store.json)')
      .requiredOption('--run <dir>', 'runtime dir (status file)')
      .option('--port <port>', 'UDP and TCP port to listen on', '5311')
      .action(lazy(async () => (await import('./commands/connect.js')).dnsServe));
  }

  return program;
}

/** Top-level commands, as buildProgram() defines them. */
const COMMANDS = ['network', 'container', 'rename', 'version', 'completion', 'run', 'create', 'exec', 'attach', 'logs', 'wait', 'kill', 'top', 'ps', 'port', 'stop', 'restart', 'start', 'rm', 'inspect', 'graph', 'doctor', 'trace', 'agent', 'system', 'dns'];

/** What `plumb run` loads before it starts work (its command module, the CLI helpers, the engine context), for scripts/bench-run to time. */
export async function loadRunModules(): Promise<void> {
  await Promise.all([import('./commands/run.js'), import('./output.js'), import('../engine/core/context.js')]);
}

/**
 * `--explain=brief` / `--explain=full`: commander's optional option values
 * would swallow the command word after a bare `--explain`, so the style is
 * taken from argv here and commander sees a plain `--explain`.
 */
async function explainStyleOf(argv: string[]): Promise<string[]> {
  const i = argv.findIndex((a) => a.startsWith('--explain='));
  if (i < 0) return argv;
  const style = argv[i]!.slice('--explain='.length);
  if (style !== 'brief' && style !== 'full') {
    process.stderr.write(`Error: unknown explain style "${style}": use --explain, --explain=brief or --explain=full\n`);
    process.exit(125);
  }
  (await import('./output.js')).setExplainStyle(style);
  return [...argv.slice(0, i), '--explain', ...argv.slice(i + 1)];
}

export async function main(argv: string[]): Promise<void> {
  const args = argv.some((a) => a.startsWith('--explain=')) ? await explainStyleOf(argv) : argv;
  await buildProgram(commandWord(args.slice(2))).parseAsync(args);
}
