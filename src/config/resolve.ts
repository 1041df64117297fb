// Where the options come from, resolved into one validated Options: the defaults, the
// environment (PORT, STARLIGHT_*), a layer above them (the command line, or serve()'s options),
// and the app module's own `port`/`hostname` exports. Pure: no I/O and no process.exit; every
// problem is a UsageError whose message names the option (or variable) and the accepted form.
import { VALUE_OPTIONS, camelCase, kebabCase, optionFor, suggestion, type Env, type Options, type ValueOption } from './options.js';

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
  /** The names a process manager gave the descriptors it handed down (systemd's LISTEN_FDNAMES), by descriptor. */
  fdNames?: ReadonlyMap<number, string>;
}


export function defaults(env: Env): Options {
  const entries = VALUE_OPTIONS.map((spec) => {
    const value = typeof spec.default === 'function' ? spec.default(env) : spec.default;
    return [spec.key, Array.isArray(value) ? [...value] : value];
  });
  return Object.fromEntries(entries) as Options;
}

/** The options being built, and where each explicit one came from. */
export class Settings {
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
    throw new UsageError(`${name}: ${spec.type.refusal?.(part) ?? `expected ${spec.type.expected}, got ${JSON.stringify(part)}`}`);
  });
  return spec.type.repeatable ? values.flat() : values[0];
}

export function missingValue(spec: ValueOption, name: string): UsageError {
  const form = name.startsWith('--') ? `${name}=${spec.placeholder}` : `${name} ${spec.placeholder}`;
  return new UsageError(`${name}: missing value (expected ${form})`);
}

/**
 * The app module's own `port`/`hostname` (Bun convention; only numbers and strings: see
 * app/load.ts) fill only what argv/env did not set. Throws UsageError naming `source` (the app
 * file) for a bad value.
 */
export function withAppDefaults(cl: CommandLine, app: { port?: string | number; hostname?: string | number }, source: string): Options {
  const options: Options = { ...cl.options };
  const exported = [
    ['port', 'port', app.port],
    ['host', 'hostname', app.hostname],
  ] as const;
  for (const [key, name, value] of exported) {
    if (value === undefined || cl.explicit.has(key)) continue;
    const { type } = optionFor(key);
    const parsed = type.parse(String(value));
    if (parsed === undefined) {
      const got = typeof value === 'string' ? JSON.stringify(value) : String(value);
      throw new UsageError(`${source}: exported ${name}: expected ${type.expected}, got ${got}`);
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
      const guess = suggestion(`--${kebabCase(key)}`);
      const camel = guess === undefined ? undefined : camelCase(guess.slice(2));
      throw new UsageError(`unknown ${name}${camel === undefined ? '' : ` (did you mean ${camel}?)`}`);
    }
    if (typeof value === 'boolean' && spec.type.flag) settings.set(spec, 'code', name, value);
    else if (Array.isArray(value) && spec.type.repeatable) for (const item of value) settings.set(spec, 'code', name, String(item));
    else settings.set(spec, 'code', name, Array.isArray(value) ? value.join(',') : String(value));
  }
  return { action: 'serve', options: settings.options, explicit: settings.explicit, app: undefined };
}
