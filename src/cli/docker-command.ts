// commander's Command, made to fail the way Docker's CLI fails: a learner who
// mistypes a flag sees two lines (`unknown flag: --foo` / `See 'plumb run
// --help'.`) and exit status 125, not thirty lines of help. A command group
// given no subcommand (`plumb network`) prints its help and exits 0.
import { Command, type HelpContext } from 'commander';

/** Docker's CLI exits 125 when its own flags are wrong (cli.FlagErrorFunc). */
export const FLAG_ERROR_STATUS = 125;

/** `plumb network create`: the words a user types to reach `cmd`. */
export function commandPath(cmd: Command): string {
  const words: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** Turns commander's wording of a usage error into Docker's lines and exit status. */
export function dockerUsageError(
  path: string,
  code: string | undefined,
  message: string,
  args: { min: number; max: number } = { min: 0, max: Infinity },
): { text: string; status: number } {
  const see = `See '${path} --help'.`;
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'commander.unknownOption': {
      // pflag words a single-dash unknown as `unknown shorthand flag: 'z' in -z`.
      const flag = quoted.split('=')[0]!;
      const text = /^-[^-]/.test(flag) ? `unknown shorthand flag: '${flag[1]}' in ${flag}` : `unknown flag: ${flag}`;
      return { text: `${text}\n${see}`, status: FLAG_ERROR_STATUS };
    }
    case 'commander.optionMissingArgument': {
      const flag = quoted.split(/[ ,]/).find((f) => f.startsWith('--')) ?? quoted.split(/[ ,]/)[0]!;
      return { text: `flag needs an argument: ${flag}\n${see}`, status: FLAG_ERROR_STATUS };
    }
    case 'commander.unknownCommand': {
      const parent = path.split(' ').slice(1).join(' ');
      const word = [parent, quoted].filter(Boolean).join(' ');
      return { text: `plumb: '${word}' is not a plumb command.\nSee 'plumb --help'`, status: 1 };
    }
    case 'commander.missingArgument':
    case 'commander.excessArguments':
      return { text: `"${path}" ${argumentCount(args.min, args.max)}.\n${see}`, status: 1 };
    default:
      return { text: `${message.replace(/^error: /, '')}\n${see}`, status: 1 };
  }
}

/** Docker's words for how many arguments a command takes (cli.RequiresMinArgs, ExactArgs, RequiresRangeArgs, NoArgs). */
function argumentCount(min: number, max: number): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (max === 0) return 'accepts no arguments';
  if (min === max) return `requires exactly ${n(min)}`;
  if (max === Infinity) return `requires at least ${n(min)}`;
  return `requires at least ${min} and at most ${n(max)}`;
}

export class DockerCommand extends Command {
  override createCommand(name?: string): Command {
    return new DockerCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    // commander's own message may carry a "(Did you mean …?)" hint: Docker's has none, and the first line is enough.
    const args = this.registeredArguments;
    const counts = {
      min: args.filter((a) => a.required).length,
      max: args.some((a) => a.variadic) ? Infinity : args.length,
    };
    const { text, status } = dockerUsageError(commandPath(this), errorOptions?.code, message.split('\n')[0]!, counts);
    process.stderr.write(`${text}\n`);
    process.exit(status);
  }

  override help(context?: HelpContext): never;
  override help(cb?: (str: string) => string): never;
  override help(arg?: HelpContext | ((str: string) => string)): never {
    // Reached with {error: true} only when a group is given no subcommand, which Docker answers with its help on stdout and status 0.
    if (typeof arg === 'function') this.outputHelp(arg);
    else this.outputHelp(arg?.error ? undefined : arg);
    process.exit(0);
  }
}
