// `plumb completion bash|zsh`: a completion script made from the program's
// own definition, so it can never list a command or flag plumb does not have.
// Container and network names are asked of plumb itself when TAB is pressed.
import type { Command } from 'commander';

/** What a positional word is: a container, a network, either (inspect), or something else (-). */
type ArgKind = 'container' | 'network' | 'any' | '-';

interface Entry {
  path: string;
  subcommands: string[];
  flags: string[];
  /** Flags that take a value (the next word is not an argument). */
  valueFlags: string[];
  /** Flags whose value is a network or a container. */
  networkFlags: string[];
  containerFlags: string[];
  /** One kind per positional argument; a variadic last one repeats (marked with a trailing +). */
  args: string[];
}

function argKinds(cmd: Command): string[] {
  return cmd.registeredArguments.map((a) => {
    const kind: ArgKind = a.name() === 'container' ? 'container' : a.name() === 'network' ? 'network' : a.name() === 'name' ? 'any' : '-';
    return a.variadic ? `${kind}+` : kind;
  });
}

function collect(cmd: Command, path: string, into: Entry[]): void {
  const visible = cmd.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden && c.name() !== 'help');
  const flags = cmd.options.flatMap((o) => [o.short, o.long].filter((f): f is string => !!f));
  into.push({
    path,
    subcommands: visible.flatMap((c) => [c.name(), ...c.aliases()]),
    flags: [...flags, '--help'],
    valueFlags: cmd.options.filter((o) => o.required || o.optional).flatMap((o) => [o.short, o.long].filter((f): f is string => !!f)),
    networkFlags: cmd.options.filter((o) => o.long === '--network' || o.long === '--net').map((o) => o.long!),
    containerFlags: cmd.options.filter((o) => o.long === '--link').map((o) => o.long!),
    args: argKinds(cmd),
  });
  for (const c of visible) for (const n of [c.name(), ...c.aliases()]) collect(c, path ? `${path} ${n}` : n, into);
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The bash completion script for `program` (a program built with every command). */
export function bashCompletion(program: Command): string {
  const entries: Entry[] = [];
  collect(program, '', entries);
  const table = (name: string, pick: (e: Entry) => string) =>
    `  ${name}=(\n${entries.map((e) => `    [${quote(e.path || '.')}]=${quote(pick(e))}`).join('\n')}\n  )`;
  return `# plumb completion for bash. Load it with:  source <(plumb completion bash)
_plumb() {
  COMPREPLY=()
  local -A subs flags valueflags netflags ctrflags args
${table('subs', (e) => e.subcommands.join(' '))}
${table('flags', (e) => e.flags.join(' '))}
${table('netflags', (e) => e.networkFlags.join(' '))}
${table('ctrflags', (e) => e.containerFlags.join(' '))}
${table('valueflags', (e) => e.valueFlags.join(' '))}
${table('args', (e) => e.args.join(' '))}
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path=. w i n=0
  # The command path (each word that is a subcommand of the path so far), then
  # how many positional words follow it, leaving out the values of flags.
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if [[ $w == -* ]]; then
      [[ $w != *=* && " \${valueflags[$path]} " == *" $w "* ]] && ((i++))
      continue
    fi
    if ((n == 0)) && [[ " \${subs[$path]} " == *" $w "* ]]; then
      [[ $path == . ]] && path=$w || path="$path $w"
    else
      ((n++))
    fi
  done
  local containers='plumb ps -a --format "{{.Names}}" 2>/dev/null'
  local networks='plumb network ls --format "{{.Name}}" 2>/dev/null'
  if [[ " \${netflags[$path]} " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -W "$(eval "$networks") host none" -- "$cur")); return
  fi
  if [[ " \${ctrflags[$path]} " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -W "$(eval "$containers")" -- "$cur")); return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${flags[$path]}" -- "$cur")); return
  fi
  if [[ -n \${subs[$path]} ]]; then
    COMPREPLY=($(compgen -W "\${subs[$path]}" -- "$cur")); return
  fi
  local kinds=(\${args[$path]}) kind
  if ((n < \${#kinds[@]})); then kind=\${kinds[n]}; else kind=\${kinds[-1]}; [[ $kind == *+ ]] || kind=-; fi
  case \${kind%+} in
    container) COMPREPLY=($(compgen -W "$(eval "$containers")" -- "$cur")) ;;
    network) COMPREPLY=($(compgen -W "$(eval "$networks")" -- "$cur")) ;;
    any) COMPREPLY=($(compgen -W "$(eval "$containers") $(eval "$networks")" -- "$cur")) ;;
  esac
}
complete -F _plumb plumb
`;
}

/** zsh runs the same function through its bash completion layer. */
export function zshCompletion(program: Command): string {
  return `# plumb completion for zsh. Load it with:  source <(plumb completion zsh)
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(program).split('\n').slice(1).join('\n')}`;
}
