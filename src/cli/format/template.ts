// The part of Go's text/template that Docker's `--format` flag is used with:
//   {{.Field}}  {{.A.B}}  {{.}}  {{json .X}}  {{.X | json}}  {{join .L ", "}}
//   {{index .Labels "k"}}  {{if .X}}..{{else}}..{{end}}  {{range .L}}..{{end}}
//   {{with .X}}..{{end}}  {{- trim -}}  string/number/bool/nil literals
//   variables: {{$x := .A}} {{$x = .B}} {{$x.Field}} {{$.Root}}
//   {{range $k, $v := .Map}}  {{range $i, $e := .List}}  {{with $n := .X}}
//   parenthesised pipelines: {{(index .NetworkSettings.Networks "n").IPAddress}}
// plus Docker's handling of the format string: a `table` prefix makes a
// header row and aligns the output in columns, and the two-character
// sequences `\t` and `\n` become a tab and a newline.
// Functions: json split join title lower upper pad truncate (Docker's) and
// len index print printf println eq ne lt le gt ge and or not (Go's).
// Not supported: define/template/block, break/continue.
//
// Errors read like Go's (`template: :1:2: executing "" at <.Foo>: can't
// evaluate field Foo in type *formatter.networkContext`); Docker prints them
// after `Template parsing error: `, which TemplateError's message includes.

import { goJson, isGoStruct, sortedMap } from './json.js';
import { tabwrite } from './table.js';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  /** The error as Go's text/template words it. */
  readonly goMessage: string;
  constructor(goMessage: string) {
    super(`Template parsing error: ${goMessage}`);
    this.goMessage = goMessage;
  }
}

// ---------------------------------------------------------------- parsing

type Operand =
  | { kind: 'field'; path: string[]; pos: number; text: string }
  | { kind: 'dot'; pos: number }
  | { kind: 'ident'; name: string; pos: number }
  | { kind: 'literal'; value: unknown; pos: number; text: string }
  /** `$`, `$x`, `$x.A.B`: a variable, with the fields read from it. */
  | { kind: 'var'; name: string; path: string[]; pos: number; text: string }
  /** `(pipeline)` or `(pipeline).A.B`. */
  | { kind: 'paren'; pipe: Pipeline; path: string[]; pos: number; text: string };

interface Command {
  operands: Operand[];
  pos: number;
}

interface Pipeline {
  /** `$k, $v :=` (declare) or `$x =` (assign) before the commands. */
  decl: { names: string[]; assign: boolean } | null;
  commands: Command[];
  pos: number;
}

type Token =
  | Exclude<Operand, { kind: 'paren' } | { kind: 'var' }>
  | { kind: 'var'; name: string; path: string[]; pos: number; text: string }
  | { kind: 'pipe' | 'lparen' | 'comma' | 'declare' | 'assign'; pos: number }
  /** `)` and, when a field chain follows it directly, that chain. */
  | { kind: 'rparen'; pos: number; path: string[]; text: string };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with' | 'range'; pipe: Pipeline; body: Node[]; elseBody: Node[] | null };

export interface Template {
  readonly source: string;
  readonly nodes: readonly Node[];
}

const FUNCTION_NAMES = new Set([
  'json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate',
  'len', 'index', 'print', 'printf', 'println', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'and', 'or', 'not',
]);

function lineOf(src: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src[i] === '\n') n++;
  return n;
}

function parseError(src: string, pos: number, msg: string): TemplateError {
  return new TemplateError(`template: :${lineOf(src, pos)}: ${msg}`);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Tokenises the inside of one action. `base` is its offset in the source. */
function lexAction(src: string, inner: string, base: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < inner.length) {
    const c = inner[i]!;
    const pos = base + i;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const single = { '|': 'pipe', '(': 'lparen', ',': 'comma' } as const;
    if (c in single) {
      tokens.push({ kind: single[c as keyof typeof single], pos });
      i++;
      continue;
    }
    if (c === ')') {
      // `(...).Field`: the chain belongs to the parenthesised value, so it must follow without a space.
      const m = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(inner.slice(i + 1));
      tokens.push({ kind: 'rparen', pos, path: m ? m[0].slice(1).split('.') : [], text: m ? m[0] : '' });
      i += 1 + (m ? m[0].length : 0);
      continue;
    }
    if (c === ':' && inner[i + 1] === '=') {
      tokens.push({ kind: 'declare', pos });
      i += 2;
      continue;
    }
    if (c === '=' && inner[i + 1] !== '=') {
      tokens.push({ kind: 'assign', pos });
      i++;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z0-9_]*)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(inner.slice(i))!;
      tokens.push({ kind: 'var', name: `$${m[1]}`, path: m[2] ? m[2].slice(1).split('.') : [], pos, text: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '.') {
      const m = /^(?:\.[A-Za-z_][A-Za-z0-9_]*)+/.exec(inner.slice(i));
      if (m) {
        tokens.push({ kind: 'field', path: m[0].slice(1).split('.'), pos, text: m[0] });
        i += m[0].length;
      } else {
        tokens.push({ kind: 'dot', pos });
        i++;
      }
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < inner.length && inner[j] !== '"') j += inner[j] === '\\' ? 2 : 1;
      if (j >= inner.length) throw parseError(src, pos, 'unterminated quoted string');
      const text = inner.slice(i, j + 1);
      let value: string;
      try {
        value = JSON.parse(text) as string;
      } catch {
        throw parseError(src, pos, `bad string syntax: ${text}`);
      }
      tokens.push({ kind: 'literal', value, pos, text });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      const j = inner.indexOf('`', i + 1);
      if (j < 0) throw parseError(src, pos, 'unterminated raw quoted string');
      const text = inner.slice(i, j + 1);
      tokens.push({ kind: 'literal', value: inner.slice(i + 1, j), pos, text });
      i = j + 1;
      continue;
    }
    const num = /^[-+]?\d+(?:\.\d+)?/.exec(inner.slice(i));
    if (num) {
      tokens.push({ kind: 'literal', value: Number(num[0]), pos, text: num[0] });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(inner.slice(i));
    if (word) {
      const w = word[0];
      if (w === 'true' || w === 'false') tokens.push({ kind: 'literal', value: w === 'true', pos, text: w });
      else if (w === 'nil') tokens.push({ kind: 'literal', value: null, pos, text: w });
      else tokens.push({ kind: 'ident', name: w, pos });
      i += w.length;
      continue;
    }
    throw parseError(src, pos, `unexpected ${JSON.stringify(c)} in command`);
  }
  return tokens;
}

/** Where the `)` that closes the `(` at tokens[open] is. */
function matchingParen(src: string, tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind === 'lparen') depth++;
    else if (t.kind === 'rparen' && --depth === 0) return k;
  }
  throw parseError(src, tokens[open]!.pos, 'unclosed left paren');
}

/** Parses a pipeline: an optional declaration, then commands separated by `|` (outside parentheses). */
function parsePipeline(src: string, tokens: readonly Token[], pos: number, declared: Set<string> = new Set()): Pipeline {
  let decl: Pipeline['decl'] = null;
  // `$x :=`, `$x =`, `$k, $v :=`
  const declAt = tokens.findIndex((t) => t.kind === 'declare' || t.kind === 'assign');
  if (declAt > 0 && tokens.slice(0, declAt).every((t, k) => (k % 2 === 0 ? t.kind === 'var' && t.path.length === 0 : t.kind === 'comma'))) {
    const names = tokens.filter((t, k) => k < declAt && t.kind === 'var').map((t) => (t as { name: string }).name);
    const assign = tokens[declAt]!.kind === 'assign';
    if (names.length > 2 || (assign && names.length > 1)) throw parseError(src, tokens[0]!.pos, 'too many declarations');
    if (assign) for (const n of names) if (!declared.has(n)) throw parseError(src, tokens[0]!.pos, `undefined variable "${n}"`);
    decl = { names, assign };
    tokens = tokens.slice(declAt + 1);
  }
  const commands: Command[] = [];
  let current: Operand[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    switch (t.kind) {
      case 'pipe':
        if (current.length === 0) throw parseError(src, t.pos, 'missing command');
        commands.push({ operands: current, pos: current[0]!.pos });
        current = [];
        break;
      case 'lparen': {
        const close = matchingParen(src, tokens, k);
        const end = tokens[close] as Extract<Token, { kind: 'rparen' }>;
        const pipe = parsePipeline(src, tokens.slice(k + 1, close), t.pos, declared);
        if (pipe.decl) throw parseError(src, t.pos, 'declaration in parenthesised pipeline');
        current.push({ kind: 'paren', pipe, path: end.path, pos: t.pos, text: `(...)${end.text}` });
        k = close;
        break;
      }
      case 'rparen':
        throw parseError(src, t.pos, 'unexpected right paren');
      case 'comma':
      case 'declare':
      case 'assign':
        throw parseError(src, t.pos, `unexpected ${t.kind === 'comma' ? '","' : t.kind === 'declare' ? '":="' : '"="'} in command`);
      case 'var':
        if (!declared.has(t.name)) throw parseError(src, t.pos, `undefined variable "${t.name}"`);
        current.push(t);
        break;
      case 'ident':
        if (!FUNCTION_NAMES.has(t.name)) throw parseError(src, t.pos, `function ${JSON.stringify(t.name)} not defined`);
        current.push(t);
        break;
      default:
        current.push(t);
    }
  }
  if (current.length === 0) throw parseError(src, pos, 'missing value for command');
  commands.push({ operands: current, pos: current[0]!.pos });
  if (decl && !decl.assign) for (const n of decl.names) declared.add(n);
  return { decl, commands, pos };
}

/** Parses a template (after Docker's `table` and `\t` handling). Throws TemplateError. */
export function parseTemplate(src: string): Template {
  const root: Node[] = [];
  // Variables in scope: `$` always; a block's own declarations last until its {{end}}.
  const rootScope = new Set(['$']);
  const stack: Array<{ node: Extract<Node, { body: Node[] }>; inElse: boolean; pos: number; scope: Set<string> }> = [];
  const scope = (): Set<string> => stack[stack.length - 1]?.scope ?? rootScope;
  const target = (): Node[] => {
    const top = stack[stack.length - 1];
    if (!top) return root;
    return top.inElse ? top.node.elseBody! : top.node.body;
  };

  let i = 0;
  let trimNextText = false;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    trimNextText = false;
    if (open < 0) {
      if (text) target().push({ kind: 'text', text });
      break;
    }
    let start = open + 2;
    if (src[start] === '-' && isSpace(src[start + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 1;
    }
    if (text) target().push({ kind: 'text', text });

    // find the closing braces, skipping quoted strings
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j]!;
      if (c === '"') {
        j++;
        while (j < src.length && src[j] !== '"' && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
        j++;
        continue;
      }
      if (c === '`') {
        const k = src.indexOf('`', j + 1);
        j = k < 0 ? src.length : k + 1;
        continue;
      }
      if (c === '}' && src[j + 1] === '}') {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw parseError(src, open, 'unclosed action');
    let end = close;
    if (src[close - 1] === '-' && isSpace(src[close - 2])) {
      end = close - 1;
      trimNextText = true;
    }
    i = close + 2;

    const inner = src.slice(start, end);
    // comments
    const trimmed = inner.trim();
    if (trimmed.startsWith('/*')) {
      if (!trimmed.endsWith('*/')) throw parseError(src, open, 'unclosed comment');
      continue;
    }
    const tokens = lexAction(src, inner, start);
    if (tokens.length === 0) throw parseError(src, open, 'missing value for command');
    // keywords are lexed as identifiers that are not functions
    const rawWord = /^\s*([A-Za-z_]+)/.exec(inner)?.[1] ?? '';
    if (rawWord === 'end' || rawWord === 'else' || rawWord === 'if' || rawWord === 'range' || rawWord === 'with') {
      const restTokens = lexActionKeyword(src, inner, start, rawWord);
      if (rawWord === 'end') {
        if (restTokens.length) throw parseError(src, open, 'unexpected tokens after end');
        if (!stack.pop()) throw parseError(src, open, 'unexpected {{end}}');
        continue;
      }
      if (rawWord === 'else') {
        const top = stack[stack.length - 1];
        if (!top || top.inElse) throw parseError(src, open, 'unexpected {{else}}');
        top.inElse = true;
        top.node.elseBody = [];
        if (restTokens.length) {
          // {{else if ...}} / {{else with ...}}: a nested block closed by the same {{end}}
          const kw = restTokens[0]!;
          if (kw.kind !== 'ident' || (kw.name !== 'if' && kw.name !== 'with')) {
            throw parseError(src, open, 'unexpected tokens after else');
          }
          const nested = new Set(top.scope);
          const node: Extract<Node, { body: Node[] }> = {
            kind: kw.name as 'if' | 'with',
            pipe: parsePipeline(src, restTokens.slice(1), kw.pos, nested),
            body: [],
            elseBody: null,
          };
          top.node.elseBody.push(node);
          // the nested block shares the outer {{end}}: replace the top entry
          stack.pop();
          stack.push({ node, inElse: false, pos: open, scope: nested });
        }
        continue;
      }
      const blockScope = new Set(scope());
      const node: Extract<Node, { body: Node[] }> = {
        kind: rawWord,
        pipe: parsePipeline(src, restTokens, start, blockScope),
        body: [],
        elseBody: null,
      };
      target().push(node);
      stack.push({ node, inElse: false, pos: open, scope: blockScope });
      continue;
    }
    target().push({ kind: 'action', pipe: parsePipeline(src, tokens, start, scope()) });
  }
  if (stack.length) throw parseError(src, src.length, 'unexpected EOF');
  return { source: src, nodes: root };
}

function lexActionKeyword(src: string, inner: string, base: number, word: string): Token[] {
  const at = inner.indexOf(word);
  return lexAction(src, inner.slice(at + word.length), base + at + word.length);
}

// ---------------------------------------------------------------- execution

export interface ExecOptions {
  /**
   * Objects whose missing fields are errors (Docker's formatter contexts);
   * `typeName` names them in the error: `*formatter.networkContext`.
   */
  strict?: WeakSet<object>;
  typeName?: string;
  /** Header mode: Docker's functions return their first argument unchanged. */
  header?: boolean;
}

const NO_VALUE = '<no value>';

function goTypeName(v: unknown): string {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return '[]interface {}';
  return 'interface {}';
}

/** fmt's %v rendering of a value. */
export function formatValue(v: unknown): string {
  if (v === undefined) return NO_VALUE;
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return '[' + v.map(formatValue).join(' ') + ']';
  if (v instanceof Map) {
    const keys = [...v.keys()].map(String).sort();
    return 'map[' + keys.map((k) => `${k}:${formatValue(v.get(k))}`).join(' ') + ']';
  }
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (isGoStruct(o)) return '{' + Object.values(o).filter((x) => typeof x !== 'function').map(formatValue).join(' ') + '}';
    const keys = Object.keys(o).filter((k) => typeof o[k] !== 'function').sort();
    return 'map[' + keys.map((k) => `${k}:${formatValue(o[k])}`).join(' ') + ']';
  }
  return String(v);
}

function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map) return v.size > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

function asString(v: unknown): string {
  return typeof v === 'string' ? v : formatValue(v);
}

function titleCase(s: string): string {
  let out = '';
  let prevSep = true;
  for (const ch of s) {
    out += prevSep ? ch.toUpperCase() : ch;
    prevSep = !/[\p{L}\p{N}_]/u.test(ch);
  }
  return out;
}

function goSprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += formatValue(a);
  });
  return out;
}

function goSprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([svdqtx%])/g, (_m, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    if (n >= args.length) return `%!${verb}(MISSING)`;
    const a = args[n++];
    switch (verb) {
      case 'q':
        return JSON.stringify(asString(a));
      case 'd':
        return typeof a === 'number' ? String(Math.trunc(a)) : `%!d(${goTypeName(a)}=${formatValue(a)})`;
      case 'x':
        return typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(asString(a)).toString('hex');
      default:
        return formatValue(a);
    }
  });
}

function compare(a: unknown, b: unknown, name: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new Error(`error calling ${name}: incompatible types for comparison`);
}

type Fn = (args: unknown[]) => unknown;

const ARITY: Record<string, number> = { json: 1, split: 2, join: 2, title: 1, lower: 1, upper: 1, pad: 3, truncate: 2, len: 1, not: 1 };

const FUNCTIONS: Record<string, Fn> = {
  json: ([v]) => goJson(v === undefined ? null : v),
  split: ([s, sep]) => asString(s).split(asString(sep)),
  join: ([l, sep]) => {
    if (!Array.isArray(l)) throw new Error(`error calling join: wrong type for value; expected []string; got ${goTypeName(l)}`);
    return l.map(asString).join(asString(sep));
  },
  title: ([s]) => titleCase(asString(s)),
  lower: ([s]) => asString(s).toLowerCase(),
  upper: ([s]) => asString(s).toUpperCase(),
  pad: ([s, pre, suf]) => {
    const str = asString(s);
    return str === '' ? str : ' '.repeat(Number(pre)) + str + ' '.repeat(Number(suf));
  },
  truncate: ([s, n]) => {
    const str = asString(s);
    return str.length < Number(n) ? str : str.slice(0, Number(n));
  },
  len: ([v]) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v instanceof Map) return v.size;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new Error(`error calling len: len of type ${goTypeName(v)}`);
  },
  index: ([v, ...keys]) => {
    let cur: unknown = v;
    for (const k of keys) {
      if (cur === null || cur === undefined) throw new Error('error calling index: index of untyped nil');
      if (Array.isArray(cur)) {
        const n = Number(k);
        if (!Number.isInteger(n) || n < 0 || n >= cur.length) throw new Error(`error calling index: index out of range: ${formatValue(k)}`);
        cur = cur[n];
      } else if (cur instanceof Map) cur = cur.get(k);
      else if (typeof cur === 'object') cur = (cur as Record<string, unknown>)[asString(k)];
      else throw new Error(`error calling index: can't index item of type ${goTypeName(cur)}`);
    }
    return cur;
  },
  print: (args) => goSprint(args),
  printf: ([f, ...args]) => goSprintf(asString(f), args),
  println: (args) => args.map(formatValue).join(' ') + '\n',
  eq: ([a, ...rest]) => rest.some((b) => a === b),
  ne: ([a, b]) => a !== b,
  lt: ([a, b]) => compare(a, b, 'lt') < 0,
  le: ([a, b]) => compare(a, b, 'le') <= 0,
  gt: ([a, b]) => compare(a, b, 'gt') > 0,
  ge: ([a, b]) => compare(a, b, 'ge') >= 0,
  not: ([a]) => !truthy(a),
  and: (args) => {
    for (const a of args) if (!truthy(a)) return a;
    return args[args.length - 1];
  },
  or: (args) => {
    for (const a of args) if (truthy(a)) return a;
    return args[args.length - 1];
  },
};

// Docker's header pass: its own functions hand the header text back.
const HEADER_PASSTHROUGH = new Set(['json', 'split', 'join', 'title', 'lower', 'upper', 'pad', 'truncate']);

class ExecError extends Error {}

function execError(src: string, pos: number, context: string, msg: string): ExecError {
  const before = src.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const col = nl < 0 ? pos : pos - (nl + 1);
  return new ExecError(`template: :${lineOf(src, pos)}:${col}: executing "" at <${context}>: ${msg}`);
}

function operandText(op: Operand): string {
  switch (op.kind) {
    case 'field':
    case 'var':
    case 'paren':
    case 'literal':
      return op.text;
    case 'dot':
      return '.';
    case 'ident':
      return op.name;
  }
}

/**
 * Variables in scope while executing: a chain of frames, innermost last.
 * Go's text/template keeps them on one stack and pops to a mark at {{end}}.
 */
class Vars {
  private readonly frames: Array<Map<string, unknown>>;
  constructor(root: unknown) {
    this.frames = [new Map([['$', root]])];
  }
  push(): void {
    this.frames.push(new Map());
  }
  pop(): void {
    this.frames.pop();
  }
  declare(name: string, value: unknown): void {
    this.frames[this.frames.length - 1]!.set(name, value);
  }
  assign(name: string, value: unknown): void {
    for (let k = this.frames.length - 1; k >= 0; k--) {
      if (this.frames[k]!.has(name)) {
        this.frames[k]!.set(name, value);
        return;
      }
    }
  }
  get(name: string): unknown {
    for (let k = this.frames.length - 1; k >= 0; k--) if (this.frames[k]!.has(name)) return this.frames[k]!.get(name);
    return undefined;
  }
}

interface Scope {
  src: string;
  opts: ExecOptions;
  vars: Vars;
}

/** Reads `path` from `receiver`; the last element is called with `args` when it is a method. */
type PathOperand = Extract<Operand, { kind: 'field' | 'var' | 'paren' }>;

function resolvePath(sc: Scope, op: PathOperand, receiver: unknown, args: unknown[]): unknown {
  const { src, opts } = sc;
  for (let i = 0; i < op.path.length; i++) {
    const name = op.path[i]!;
    const last = i === op.path.length - 1;
    if (receiver === undefined) return undefined;
    if (receiver === null) throw execError(src, op.pos, op.text, `nil pointer evaluating interface {}.${name}`);
    if (typeof receiver !== 'object' || Array.isArray(receiver)) {
      throw execError(src, op.pos, op.text, `can't evaluate field ${name} in type ${goTypeName(receiver)}`);
    }
    let value: unknown;
    let has: boolean;
    if (receiver instanceof Map) {
      has = receiver.has(name);
      value = receiver.get(name);
    } else {
      has = name in (receiver as object);
      value = (receiver as Record<string, unknown>)[name];
    }
    if (!has && opts.strict?.has(receiver as object)) {
      throw execError(src, op.pos, op.text, `can't evaluate field ${name} in type ${opts.typeName ?? 'interface {}'}`);
    }
    if (typeof value === 'function') {
      value = (value as (...a: unknown[]) => unknown).apply(receiver, last ? args : []);
    } else if (last && args.length > 0 && !opts.header) {
      throw execError(src, op.pos, op.text, `${name} is not a method but has arguments`);
    }
    receiver = value;
  }
  return receiver;
}

function evalOperand(sc: Scope, op: Operand, dot: unknown, args: unknown[] = []): unknown {
  switch (op.kind) {
    case 'dot':
      return dot;
    case 'literal':
      return op.value;
    case 'field':
      return resolvePath(sc, op, dot, args);
    case 'var':
      return resolvePath(sc, op, sc.vars.get(op.name), args);
    case 'paren':
      return resolvePath(sc, op, evalPipeline(sc, op.pipe, dot), args);
    case 'ident':
      return callFunction(sc, op, args);
  }
}

function callFunction(sc: Scope, op: Extract<Operand, { kind: 'ident' }>, args: unknown[]): unknown {
  const want = ARITY[op.name];
  if (want !== undefined && args.length !== want) {
    throw execError(sc.src, op.pos, op.name, `wrong number of args for ${op.name}: want ${want} got ${args.length}`);
  }
  if (sc.opts.header && HEADER_PASSTHROUGH.has(op.name)) return args[0];
  try {
    return FUNCTIONS[op.name]!(args);
  } catch (e) {
    if (e instanceof ExecError) throw e;
    throw execError(sc.src, op.pos, op.name, (e as Error).message);
  }
}

/** Evaluates the commands of a pipeline (not its declaration). */
function evalPipeline(sc: Scope, pipe: Pipeline, dot: unknown): unknown {
  let value: unknown;
  let hasPiped = false;
  for (const cmd of pipe.commands) {
    const [first, ...rest] = cmd.operands;
    const args = rest.map((op) => evalOperand(sc, op, dot));
    if (hasPiped) args.push(value);
    if (first!.kind === 'ident' || ((first!.kind === 'field' || first!.kind === 'var' || first!.kind === 'paren') && first!.path.length > 0)) {
      value = evalOperand(sc, first!, dot, args);
    } else {
      if (args.length > 0) {
        throw execError(sc.src, first!.pos, operandText(first!), `can't give argument to non-function ${operandText(first!)}`);
      }
      value = evalOperand(sc, first!, dot);
    }
    hasPiped = true;
  }
  return value;
}

/** A pipeline as an action or a block's condition: its value, after any declaration takes it. */
function runPipeline(sc: Scope, pipe: Pipeline, dot: unknown): unknown {
  const value = evalPipeline(sc, pipe, dot);
  if (pipe.decl) {
    for (const name of pipe.decl.names) pipe.decl.assign ? sc.vars.assign(name, value) : sc.vars.declare(name, value);
  }
  return value;
}

/** What `range` walks: [key, element] pairs, maps in key order as Go sorts them. */
function rangeItems(sc: Scope, node: Extract<Node, { body: Node[] }>, v: unknown): Array<[unknown, unknown]> {
  if (Array.isArray(v)) return v.map((e, i) => [i, e]);
  if (v instanceof Map) return [...v.keys()].map(String).sort().map((k) => [k, v.get(k)]);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.keys(o).sort().map((k) => [k, o[k]]);
  }
  if (typeof v === 'number' && Number.isInteger(v)) return [...Array(Math.max(0, v)).keys()].map((i) => [i, i]);
  if (v !== undefined && v !== null) throw execError(sc.src, node.pipe.pos, 'range', `range can't iterate over ${formatValue(v)}`);
  return [];
}

function execNodes(sc: Scope, nodes: readonly Node[], dot: unknown, out: string[]): void {
  for (const node of nodes) {
    switch (node.kind) {
      case 'text':
        out.push(node.text);
        break;
      case 'action': {
        const v = runPipeline(sc, node.pipe, dot);
        // A declaration prints nothing, as in Go.
        if (!node.pipe.decl) out.push(formatValue(v));
        break;
      }
      case 'if':
      case 'with': {
        sc.vars.push();
        try {
          const v = runPipeline(sc, node.pipe, dot);
          if (truthy(v)) execNodes(sc, node.body, node.kind === 'with' ? v : dot, out);
          else if (node.elseBody) execNodes(sc, node.elseBody, dot, out);
        } finally {
          sc.vars.pop();
        }
        break;
      }
      case 'range': {
        sc.vars.push();
        try {
          const items = rangeItems(sc, node, evalPipeline(sc, node.pipe, dot));
          if (items.length === 0) {
            if (node.elseBody) execNodes(sc, node.elseBody, dot, out);
            break;
          }
          const names = node.pipe.decl?.names ?? [];
          for (const [key, elem] of items) {
            // `range $v := x` binds the element; `range $k, $v := x` the key (or index) and the element.
            if (names.length === 1) sc.vars.declare(names[0]!, elem);
            if (names.length === 2) {
              sc.vars.declare(names[0]!, key);
              sc.vars.declare(names[1]!, elem);
            }
            execNodes(sc, node.body, elem, out);
          }
        } finally {
          sc.vars.pop();
        }
        break;
      }
    }
  }
}

/** Runs a parsed template against one value. Throws TemplateError. */
export function execute(tmpl: Template, data: unknown, opts: ExecOptions = {}): string {
  const out: string[] = [];
  try {
    execNodes({ src: tmpl.source, opts, vars: new Vars(data) }, tmpl.nodes, data, out);
  } catch (e) {
    if (e instanceof ExecError) throw new TemplateError(e.message);
    throw e;
  }
  return out.join('');
}

// ---------------------------------------------------------------- Docker's --format

export interface PreparedFormat {
  /** The format began with `table`: print a header and align columns. */
  table: boolean;
  /** The template text after Docker's preprocessing. */
  text: string;
  template: Template;
}

/**
 * Docker's preprocessing of `--format`: strip a leading `table`, trim spaces,
 * turn the two-character sequences `\t` and `\n` into a tab and a newline.
 */
export function prepareFormat(format: string): PreparedFormat {
  const table = format.startsWith('table');
  let text = table ? format.slice('table'.length) : format;
  text = text.replace(/^ +| +$/g, '');
  text = text.replace(/\\t|\\n/g, (m) => (m === '\\t' ? '\t' : '\n'));
  return { table, text, template: parseTemplate(text) };
}

export interface RenderOptions {
  /** Field name -> column header, e.g. { ID: 'NETWORK ID', Name: 'NAME' }. */
  headers?: Readonly<Record<string, string>>;
  /**
   * Name of the row type for unknown-field errors, e.g.
   * `*formatter.networkContext`. When set, a field missing from a row is an
   * error like Docker's; otherwise it prints `<no value>`.
   */
  typeName?: string;
}

/**
 * Renders rows with a Docker `--format` string: one line per row (each ending
 * in '\n'); with `table`, a header line first and columns aligned with
 * Docker's tabwriter settings. Throws TemplateError.
 */
export function renderFormat(format: string, rows: readonly object[], options: RenderOptions = {}): string {
  // `--format json` (Docker 23+): each row as one line of JSON, its keys in Go's map order.
  if (format.trim() === 'json') return rows.map((row) => goJson(sortedMap(row as Record<string, unknown>)) + '\n').join('');
  const prepared = prepareFormat(format);
  const strict = options.typeName ? new WeakSet<object>(rows) : undefined;
  const execOpts: ExecOptions = { strict, typeName: options.typeName };
  let body = '';
  for (const row of rows) body += execute(prepared.template, row, execOpts) + '\n';
  if (!prepared.table) return body;
  const header = execute(prepared.template, { ...(options.headers ?? {}) }, { header: true });
  return tabwrite(header + '\n' + body);
}

/**
 * Renders one value with a template as `inspect --format` does: the format is
 * used as given (no `table`, no `\t` translation); a newline follows.
 * Missing fields print `<no value>`. Throws TemplateError.
 */
export function renderTemplate(format: string, data: unknown): string {
  // `inspect --format json` is `{{json .}}` (Docker 23+).
  if (format.trim() === 'json') return goJson(data) + '\n';
  return execute(parseTemplate(format), data) + '\n';
}
