// The command line and the environment -> a validated CommandLine, driven only by the option
// table (options.ts). Pure: no I/O and no process.exit; every problem is a UsageError whose
// message names the option (or variable) and the accepted form.
import { VERSION } from '../version.js';
import {
  OPTIONS, VALUE_OPTIONS, optionFor, spellings, type Env, type Options, type OptionSpec, type ValueOption,
} from './options.js';

/** A bad command line or environment: the command prints the message and exits with 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
  override name = 'UsageError';
}

export interface CommandLine {
  action: 'serve' | 'help' | 'version';
  /** defaults < PORT < STARLIGHT_* < command line */
  options: Options;
  /** The options set by the command line, STARLIGHT_* or (for port) PORT. */
  explicit: ReadonlySet<keyof Options>;
  /** The APP argument, as given. */
  app: string | undefined;
}

type Action = CommandLine['action'];

/** Every spelling (`--port`, `-p`, `--max-workers`) -> its option. */
const BY_SPELLING = new Map<string, OptionSpec>(
  OPTIONS.flatMap((spec) => spellings(spec).map((name) => [name, spec] as const)),
);

/** Long spellings a misspelled option is compared with, `--no-NAME` of on/off options included. */
const LONG_SPELLINGS: readonly string[] = OPTIONS.flatMap((spec) => {
  const long = spellings(spec).filter((name) => name.startsWith('--'));
  return spec.kind === 'value' && spec.type.flag ? [...long, ...long.map((name) => `--no-${name.slice(2)}`)] : long;
});

export function parseCommandLine(argv: readonly string[], env: Env): CommandLine {
  const requested = requestedAction(argv);
  if (requested !== 'serve') return actionOnly(requested, env);

  const settings = Settings.fromEnvironment(env);
  const { action, app } = readArgv(argv, settings);
  if (action !== 'serve') return actionOnly(action, env); // bundled: -qh

  if (app !== undefined && settings.explicit.has('eval')) {
    const evalName = settings.source('eval');
    throw new UsageError(`${evalName} and an APP argument (${JSON.stringify(app)}) cannot be used together`);
  }
  const { minReqsPerChild: min, maxReqsPerChild: max } = settings.options;
  if (min !== undefined && min > max) {
    throw new UsageError(
      `${settings.source('minReqsPerChild')}=${min} is greater than ${settings.source('maxReqsPerChild')}=${max}`,
    );
  }
  return { action, options: settings.options, explicit: settings.explicit, app };
}

/**
 * The app module's own `port`/`hostname` (Bun convention) fill only what argv/env did not set.
 * Throws UsageError naming `source` (the app file) for a bad value.
 */
export function withAppDefaults(cl: CommandLine, app: { port?: unknown; hostname?: unknown }, source: string): Options {
  const options: Options = { ...cl.options };
  const exported = [
    ['port', 'port', app.port],
    ['host', 'hostname', app.hostname],
  ] as const;
  for (const [key, name, value] of exported) {
    if (value === undefined || cl.explicit.has(key)) continue;
    const { type } = optionFor(key);
    const parsed = typeof value === 'string' || typeof value === 'number' ? type.parse(String(value)) : undefined;
    if (parsed === undefined) {
      throw new UsageError(`${source}: exported ${name}: expected ${type.expected}, got ${describe(value)}`);
    }
    Object.assign(options, { [key]: parsed });
  }
  return options;
}

/**
 * serve(options) from code: the same options as the command line, camelCase,
 * over the environment and the defaults (as the command line would be). A value
 * is checked as its command-line text would be; a misspelled name is refused
 * with a suggestion.
 */
export function commandLineFromCode(values: Readonly<Record<string, unknown>>, env: Env): CommandLine {
  const settings = Settings.fromEnvironment(env);
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const spec = VALUE_OPTIONS.find((option) => option.key === key);
    const name = `serve() option ${key}`;
    if (spec === undefined) {
      const guess = suggestion(`--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`);
      const camel = guess?.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
      throw new UsageError(`unknown ${name}${camel === undefined ? '' : ` (did you mean ${camel}?)`}`);
    }
    if (typeof value === 'boolean' && spec.type.flag) settings.set(spec, 'code', name, value);
    else if (Array.isArray(value) && spec.type.repeatable) for (const item of value) settings.set(spec, 'code', name, String(item));
    else settings.set(spec, 'code', name, Array.isArray(value) ? value.join(',') : String(value));
  }
  return { action: 'serve', options: settings.options, explicit: settings.explicit, app: undefined };
}

/** `--help` or `--version` anywhere before `--` wins over everything else, errors included. */
function requestedAction(argv: readonly string[]): Action {
  const end = argv.indexOf('--');
  return argv.slice(0, end < 0 ? undefined : end).reduce<Action>((action, arg) => {
    const spec = BY_SPELLING.get(arg);
    return spec?.kind === 'action' ? stronger(action, spec.action) : action;
  }, 'serve');
}

function actionOnly(action: Action, env: Env): CommandLine {
  return { action, options: defaults(env), explicit: new Set(), app: undefined };
}

function stronger(a: Action, b: Action): Action {
  return a === 'help' || b === 'help' ? 'help' : b;
}

function defaults(env: Env): Options {
  const entries = VALUE_OPTIONS.map((spec) => {
    const value = typeof spec.default === 'function' ? spec.default(env) : spec.default;
    return [spec.key, Array.isArray(value) ? [...value] : value];
  });
  return Object.fromEntries(entries) as Options;
}

/** The options being built, and where each explicit one came from. */
class Settings {
  readonly options: Options;
  readonly explicit = new Set<keyof Options>();
  /** The layer that last set each option: 'argv' or a variable name. */
  private readonly layer = new Map<keyof Options, string>();
  /** How the user wrote it (`--max-requests`, `STARLIGHT_WORKERS`), for messages. */
  private readonly written = new Map<keyof Options, string>();

  constructor(env: Env) {
    this.options = defaults(env);
  }

  /** The defaults, then PORT and the STARLIGHT_* variables over them. */
  static fromEnvironment(env: Env): Settings {
    const settings = new Settings(env);
    for (const spec of VALUE_OPTIONS) {
      for (const variable of [...spec.env].reverse()) {
        const value = env[variable];
        if (value !== undefined && value !== '') settings.set(spec, variable, variable, value);
      }
    }
    return settings;
  }

  /** Sets `spec` from `raw` (text, or the on/off of `--name`/`--no-name`); `name` as written. */
  set(spec: ValueOption, layer: string, name: string, raw: string | boolean): void {
    if (!spec.available) {
      const from = layer === 'argv' ? '' : `${name}: `;
      throw new UsageError(`${from}--${spec.name} is not available yet in starlight ${VERSION}`);
    }
    const value = typeof raw === 'boolean' ? raw : convert(spec, name, raw, layer !== 'argv');
    const previous = this.options[spec.key];
    const accumulate = spec.type.repeatable && this.layer.get(spec.key) === layer && Array.isArray(previous);
    Object.assign(this.options, { [spec.key]: accumulate ? [...previous, ...(value as string[])] : value });
    this.layer.set(spec.key, layer);
    this.written.set(spec.key, name);
    this.explicit.add(spec.key);
  }

  source(key: keyof Options): string {
    return this.written.get(key) ?? `--${optionFor(key).name}`;
  }
}

/** One kind of value per option, the same conversion for the command line and the environment. */
function convert(spec: ValueOption, name: string, text: string, fromEnv: boolean): unknown {
  // A repeatable option takes one item per occurrence on the command line, a comma list in env.
  const parts = fromEnv && spec.type.repeatable ? text.split(',').map((part) => part.trim()).filter(Boolean) : [text];
  const values = parts.map((part) => {
    const value = spec.type.parse(part);
    if (value !== undefined) return value;
    if (part === '' && !spec.type.flag) throw missingValue(spec, name);
    throw new UsageError(`${name}: expected ${spec.type.expected}, got ${JSON.stringify(part)}`);
  });
  return spec.type.repeatable ? values.flat() : values[0];
}

function missingValue(spec: ValueOption, name: string): UsageError {
  const form = name.startsWith('--') ? `${name}=${spec.placeholder}` : `${name} ${spec.placeholder}`;
  return new UsageError(`${name}: missing value (expected ${form})`);
}

function readArgv(argv: readonly string[], settings: Settings): { action: Action; app: string | undefined } {
  let action: Action = 'serve';
  let app: string | undefined;
  let index = 0;

  /** The value of a value option written without one: the next argument, unless it is an option. */
  const nextValue = (spec: ValueOption, name: string): string => {
    const next = argv[index];
    if (next === undefined || (next.startsWith('-') && next !== '-')) throw missingValue(spec, name);
    index += 1;
    return next;
  };

  const positional = (arg: string): void => {
    if (app !== undefined) {
      const [first, second] = [app, arg].map((name) => JSON.stringify(name));
      throw new UsageError(`unexpected argument ${second}: only one APP may be given (already ${first})`);
    }
    app = arg;
  };

  while (index < argv.length) {
    const arg = argv[index++]!;
    if (arg === '--') {
      argv.slice(index).forEach(positional);
      break;
    }
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals < 0 ? arg : arg.slice(0, equals);
      const inline = equals < 0 ? undefined : arg.slice(equals + 1);
      const spec = BY_SPELLING.get(name);
      if (spec === undefined) {
        const negated = name.startsWith('--no-') ? BY_SPELLING.get(`--${name.slice(5)}`) : undefined;
        if (negated === undefined) throw unknownOption(name);
        if (negated.kind === 'action' || !negated.type.flag) {
          throw new UsageError(`${name}: only on/off options have a --no- form, and --${negated.name} is not one`);
        }
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        settings.set(negated, 'argv', name, false);
      } else if (spec.kind === 'action') {
        if (inline !== undefined) throw new UsageError(`${name} takes no value`);
        action = stronger(action, spec.action);
      } else {
        settings.set(spec, 'argv', name, inline ?? (spec.type.flag ? true : nextValue(spec, name)));
      }
    } else if (arg.startsWith('-') && arg !== '-') {
      // `-port 80` is a long option with one dash, not `-p ort`
      const written = arg.split('=')[0]!;
      if (written.length > 2 && BY_SPELLING.has(`-${written}`)) throw unknownOption(written, `-${written}`);
      // -p8080, -p=8080, -p 8080; on/off options bundle: -qD, -qp 8080
      for (let at = 1; at < arg.length; at++) {
        const name = `-${arg[at]}`;
        const spec = BY_SPELLING.get(name);
        if (spec === undefined) throw unknownOption(name);
        const rest = arg.slice(at + 1);
        if (spec.kind === 'action') {
          action = stronger(action, spec.action);
        } else if (spec.type.flag) {
          if (rest.startsWith('=')) throw new UsageError(`${name} takes no value (write --${spec.name}=0|1)`);
          settings.set(spec, 'argv', name, true);
        } else {
          settings.set(spec, 'argv', name, rest === '' ? nextValue(spec, name) : rest.replace(/^=/, ''));
          break;
        }
      }
    } else {
      positional(arg);
    }
  }
  return { action, app };
}

function unknownOption(name: string, guess = suggestion(name)): UsageError {
  return new UsageError(`unknown option ${name}${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
}

/**
 * The option meant by a misspelling: within an edit distance of 2 (case and `_` ignored), else
 * one it is the start of (`--ssl-cert` -> `--ssl-cert-file`), else one that starts it.
 */
function suggestion(name: string): string | undefined {
  if (!name.startsWith('--')) {
    const other = name === name.toLowerCase() ? name.toUpperCase() : name.toLowerCase();
    return BY_SPELLING.has(other) ? other : undefined;
  }
  const typed = name.slice(2).toLowerCase().replaceAll('_', '-');
  let best: string | undefined;
  let bestRank = Infinity;
  for (const candidate of LONG_SPELLINGS) {
    const real = candidate.slice(2);
    const distance = editDistance(typed, real);
    const rank =
      distance <= 2 ? distance
      : typed.length >= 2 && real.startsWith(typed) ? 100 + real.length
      : typed.startsWith(real) ? 1000 - real.length
      : Infinity;
    if (rank < bestRank) [best, bestRank] = [candidate, rank];
  }
  return best;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
