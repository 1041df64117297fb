// THE option table (SPEC §1.3): every option starlight accepts, with its spellings, the kind of
// value it takes, its default, environment variables, help text, section and availability.
// The parser (parse.ts), --help and docs/options.md (help.ts) are generated from this table and
// nothing else, so adding or changing an option is one entry here. This module also owns the
// value kinds: one conversion per kind, shared by the command line, the environment and the
// app's own exports.
import { availableParallelism } from 'node:os';
import { VERSION } from '../version.js';

/** The validated options, camelCase; TABLE below gives each one's spellings, default and meaning. */
export interface Options {
  // Listening
  host: string | undefined;
  port: number;
  listen: string[];
  socket: string | undefined;
  socketMode: number | undefined;
  ipv6: boolean;
  backlog: number;
  reusePort: boolean;
  ssl: boolean;
  sslKeyFile?: string;
  sslCertFile?: string;
  sslCaFile?: string;
  sslClientCaFile?: string;
  sslVerifyMode: number;
  // Processes
  workers: number;
  maxReqsPerChild: number;
  minReqsPerChild: number | undefined;
  spawnInterval: number;
  mainProcessDelay: number;
  gracefulTimeout: number;
  workerTimeout: number;
  daemonize: boolean;
  pid: string | undefined;
  user: string | undefined;
  group: string | undefined;
  umask: number | undefined;
  // HTTP
  timeout: number;
  keepaliveTimeout: number;
  maxKeepaliveReqs: number;
  headerTimeout: number;
  maxHeaderSize: number;
  maxHeaders: number;
  maxBodySize: number;
  serverSoftware: string;
  forwardedAllowIps: string[];
  proxyProtocol: boolean;
  // Application and logs
  env: string;
  import: string[];
  eval: string | undefined;
  fastFetch: boolean;
  reload: boolean;
  reloadDirs: string[];
  accessLog: string | undefined;
  accessLogFormat: string;
  errorLog: string | undefined;
  quiet: boolean;
  statusPath: string | undefined;
  statusAllow: string[];
}

/** The environment the options are read from (`process.env` in the command). */
export type Env = Readonly<Record<string, string | undefined>>;

export const SECTIONS = ['Listening', 'Processes', 'HTTP', 'Application and logs', 'Other'] as const;
export type Section = (typeof SECTIONS)[number];

// ---------------------------------------------------------------------------------------------
// Kinds of values

/** One kind of value: how its text is read, described and shown. */
export interface ValueType<T> {
  /** The accepted form, for error messages: "an integer from 0 to 65535". */
  readonly expected: string;
  /** On/off: `--name`, `--no-name` or `--name=0|1`; never takes the next argument. */
  readonly flag: boolean;
  /** On the command line each occurrence adds one item; in the environment, comma-separated. */
  readonly repeatable: boolean;
  /** The value of `text`, or undefined when `text` is not of this kind. */
  parse(text: string): T | undefined;
  /** A value as it would be typed (help, docs, messages). */
  format(value: T): string;
}

const DIGITS = /^[0-9]+$/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$/;
const INFINITE = /^(?:inf|infinity|unlimited)$/i;
/** The longest delay a Node timer can hold (2^31-1 ms); longer ones fire at once. */
const MAX_SECONDS = 2147483;

function single<T>(
  expected: string,
  parse: (text: string) => T | undefined,
  format: (value: T) => string = String,
): ValueType<T> {
  return { expected, flag: false, repeatable: false, parse, format };
}

function inRange(value: number, min: number, max: number): number | undefined {
  return value >= min && value <= max ? value : undefined;
}

/** A whole number from `min` to `max`. */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
  return single(expected, (text) => (DIGITS.test(text) ? inRange(Number(text), min, max) : undefined));
}

/** `N|inf`: a count of at least `min`, or no limit. */
export function count(min: number): ValueType<number> {
  const whole = integer(min);
  return single(
    `${whole.expected}, or inf`,
    (text) => (INFINITE.test(text) ? Infinity : whole.parse(text)),
    (value) => (value === Infinity ? 'inf' : String(value)),
  );
}

/** One of a few integers. */
export function oneOf(...values: number[]): ValueType<number> {
  const expected = `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
  return single(expected, (text) => (DIGITS.test(text) && values.includes(Number(text)) ? Number(text) : undefined));
}

/** A plain decimal number of seconds (`0.5`), not above what a timer can hold. */
export function seconds(positive = false): ValueType<number> {
  const range = positive ? `greater than 0 and at most ${MAX_SECONDS}` : `from 0 to ${MAX_SECONDS}`;
  return single(`a number of seconds ${range} (e.g. 0.5)`, (text) => {
    const value = DECIMAL.test(text) ? inRange(Number(text), 0, MAX_SECONDS) : undefined;
    return positive && value === 0 ? undefined : value;
  });
}

/** A size in bytes, with an optional k/m/g suffix (×1024^n); `unlimited` allows inf/unlimited. */
export function bytes(min: number, unlimited = false): ValueType<number> {
  const SIZE = /^([0-9]+)([kmg]?)$/i;
  const expected = `a size in bytes of at least ${min} (e.g. 16384, 64k, 10m)${unlimited ? ', or unlimited' : ''}`;
  return single(
    expected,
    (text) => {
      if (unlimited && INFINITE.test(text)) return Infinity;
      const match = SIZE.exec(text);
      if (match === null) return undefined;
      const value = Number(match[1]) * 1024 ** ['', 'k', 'm', 'g'].indexOf(match[2]!.toLowerCase());
      return Number.isSafeInteger(value) ? inRange(value, min, Infinity) : undefined;
    },
    (value) => (value === Infinity ? 'unlimited' : String(value)),
  );
}

/** A file mode or umask: `660`, `0660` or `0o660`. */
export function octal(): ValueType<number> {
  const OCTAL = /^(?:0o)?([0-7]{1,4})$/i;
  return single(
    'an octal mode from 0 to 7777 (e.g. 660, 0660 or 0o660)',
    (text) => {
      const match = OCTAL.exec(text);
      return match === null ? undefined : parseInt(match[1]!, 8);
    },
    (value) => `0${value.toString(8).padStart(3, '0')}`,
  );
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

/** On/off. */
export function boolean(): ValueType<boolean> {
  return {
    expected: '1 or 0 (also true/false, yes/no, on/off)',
    flag: true,
    repeatable: false,
    parse: (text) => {
      const word = text.toLowerCase();
      return TRUE.includes(word) ? true : FALSE.includes(word) ? false : undefined;
    },
    format: (value) => (value ? 'on' : 'off'),
  };
}

/** Free text; empty only where `empty` says an empty value means something. */
export function text(empty = false): ValueType<string> {
  return single(empty ? 'a string' : 'a non-empty value', (value) => (value === '' && !empty ? undefined : value));
}

/** Repeatable: `-l A -l B` (or `STARLIGHT_LISTEN=A,B`) gives `['A', 'B']`. */
export function repeated(): ValueType<string[]> {
  return {
    expected: 'a non-empty value',
    flag: false,
    repeatable: true,
    parse: (value) => (value === '' ? undefined : [value]),
    format: (value) => value.join(','),
  };
}

/** A comma-separated list in one value: `127.0.0.1,::1`; empty gives an empty list. */
export function list(): ValueType<string[]> {
  return single(
    'a comma-separated list',
    (value) => value.split(',').map((item) => item.trim()).filter((item) => item !== ''),
    (value) => value.join(','),
  );
}

// ---------------------------------------------------------------------------------------------
// The table

/** One value option, as written in the table below. */
type Entry<K extends keyof Options> = {
  /** Other spellings, with their dashes: `-p`, `--max-workers`. */
  readonly aliases?: readonly string[];
  readonly type: ValueType<Exclude<Options[K], undefined>>;
  /** Environment variables read after `STARLIGHT_<NAME>`, with lower precedence (`PORT`). */
  readonly moreEnv?: readonly string[];
  readonly help: string;
  readonly section: Section;
  /** false: refused with "not available yet" (the feature is not built). */
  readonly available?: boolean;
} & (Options[K] extends boolean ? { readonly placeholder?: never } : { readonly placeholder: string }) &
  (
    | { readonly default: Options[K]; readonly defaultText?: string }
    /** A default that depends on the machine or the environment: shown in words, not computed. */
    | { readonly default: (env: Env) => Options[K]; readonly defaultText: string }
  );

/** One value option, resolved: what the parser, the help and the docs read. */
export interface ValueOption<K extends keyof Options = keyof Options> {
  readonly kind: 'value';
  readonly key: K;
  /** The long name without dashes: `max-reqs-per-child`. */
  readonly name: string;
  readonly aliases: readonly string[];
  /** Highest precedence first: `STARLIGHT_PORT`, then `PORT`. */
  readonly env: readonly string[];
  readonly type: ValueType<Exclude<Options[K], undefined>>;
  readonly default: Options[K] | ((env: Env) => Options[K]);
  readonly defaultText: string | undefined;
  /** The value's name in help (`N`, `SEC`); undefined for on/off options. */
  readonly placeholder: string | undefined;
  readonly help: string;
  readonly section: Section;
  readonly available: boolean;
}

/** `--help` and `--version`: they choose what the command does instead of setting a value. */
export interface ActionOption {
  readonly kind: 'action';
  readonly action: 'help' | 'version';
  readonly name: string;
  readonly aliases: readonly string[];
  readonly help: string;
  readonly section: Section;
}

export type OptionSpec = ValueOption | ActionOption;

const TABLE: { readonly [K in keyof Required<Options>]: Entry<K> } = {
  // Listening
  host: {
    aliases: ['-o'], type: text(), default: undefined, defaultText: 'all interfaces', placeholder: 'ADDR',
    help: 'address to bind; without it, dual-stack :: where IPv6 is available, else 0.0.0.0',
    section: 'Listening',
  },
  port: {
    aliases: ['-p'], type: integer(0, 65535), default: 5000, moreEnv: ['PORT'], placeholder: 'N',
    help: 'TCP port', section: 'Listening',
  },
  listen: {
    aliases: ['-l'], type: repeated(), default: [], placeholder: 'SPEC',
    help: 'listen here too (repeatable): HOST:PORT, :PORT, [IPV6]:PORT, unix:PATH, @NAME or fd://N',
    section: 'Listening',
  },
  socket: {
    aliases: ['-S'], type: text(), default: undefined, placeholder: 'PATH',
    help: 'UNIX socket; a leading @ makes a Linux abstract socket', section: 'Listening',
    available: false,
  },
  socketMode: {
    type: octal(), default: undefined, defaultText: 'from umask', placeholder: 'OCTAL',
    help: 'permissions of the socket file', section: 'Listening', available: false,
  },
  ipv6: {
    type: boolean(), default: true, help: 'dual-stack where IPv6 is available; --no-ipv6: IPv4 only',
    section: 'Listening',
  },
  backlog: {
    type: integer(1), default: 511, placeholder: 'N', help: 'listen backlog', section: 'Listening',
  },
  reusePort: {
    type: boolean(), default: false, help: 'Linux: one listening socket per worker (SO_REUSEPORT)',
    section: 'Listening', available: false,
  },
  ssl: {
    type: boolean(), default: false, help: 'TLS on the TCP listeners', section: 'Listening', available: false,
  },
  sslKeyFile: {
    type: text(), default: undefined, placeholder: 'FILE', help: 'PEM private key (required with --ssl)',
    section: 'Listening', available: false,
  },
  sslCertFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'PEM certificate chain (required with --ssl)', section: 'Listening', available: false,
  },
  sslCaFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'CAs that client certificates are verified against', section: 'Listening', available: false,
  },
  sslClientCaFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'CA names sent in the certificate request', section: 'Listening', available: false,
  },
  sslVerifyMode: {
    type: oneOf(0, 1, 3), default: 0, placeholder: 'N',
    help: 'client certificates: 0 none, 1 ask for one, 3 require one', section: 'Listening',
    available: false,
  },
  // Processes
  workers: {
    aliases: ['--max-workers'], type: integer(0), default: () => availableParallelism(),
    defaultText: 'number of CPUs', placeholder: 'N',
    help: 'worker processes; 0: no forking, the master serves', section: 'Processes',
  },
  maxReqsPerChild: {
    aliases: ['--max-requests'], type: count(1), default: Infinity, placeholder: 'N|inf',
    help: 'a worker is replaced after N requests', section: 'Processes',
  },
  minReqsPerChild: {
    type: integer(1), default: undefined, placeholder: 'N',
    help: "each worker's limit is drawn uniformly from [min, max]", section: 'Processes',
  },
  spawnInterval: {
    type: seconds(), default: 0, placeholder: 'SEC',
    help: 'at most one worker started, and on HUP one old worker retired, per SEC',
    section: 'Processes',
  },
  mainProcessDelay: {
    type: seconds(true), default: 0.1, placeholder: 'SEC', help: "the master's housekeeping tick",
    section: 'Processes',
  },
  gracefulTimeout: {
    type: seconds(), default: 30, placeholder: 'SEC',
    help: 'how long stopping workers may take to finish in-flight requests before they are killed',
    section: 'Processes',
  },
  workerTimeout: {
    type: seconds(), default: 60, placeholder: 'SEC',
    help: 'a worker whose event loop is blocked this long is replaced; 0: never', section: 'Processes',
  },
  daemonize: {
    aliases: ['-D'], type: boolean(), default: false, help: 'detach from the terminal', section: 'Processes',
    available: false,
  },
  pid: {
    type: text(), default: undefined, placeholder: 'FILE', help: "write the master's pid to FILE",
    section: 'Processes',
  },
  user: {
    type: text(), default: undefined, placeholder: 'USER', help: 'after binding, run as this user (name or uid)',
    section: 'Processes', available: false,
  },
  group: {
    type: text(), default: undefined, placeholder: 'GROUPS',
    help: 'after binding, run with these groups (names or gids, comma-separated)', section: 'Processes',
    available: false,
  },
  umask: {
    type: octal(), default: undefined, placeholder: 'OCTAL', help: 'umask set after binding',
    section: 'Processes', available: false,
  },
  // HTTP
  timeout: {
    type: seconds(), default: 300, placeholder: 'SEC',
    help: 'inactivity timeout while reading a request or writing a response', section: 'HTTP',
  },
  keepaliveTimeout: {
    type: seconds(), default: 5, placeholder: 'SEC',
    help: 'idle time allowed between requests on a persistent connection', section: 'HTTP',
  },
  maxKeepaliveReqs: {
    type: integer(1), default: 1000, placeholder: 'N', help: 'requests per connection; 1: no keep-alive',
    section: 'HTTP',
  },
  headerTimeout: {
    type: seconds(), default: 60, placeholder: 'SEC', help: 'deadline for a whole request head to arrive',
    section: 'HTTP',
  },
  maxHeaderSize: {
    type: bytes(1), default: 16384, placeholder: 'BYTES', help: 'request line plus headers; over it: 431',
    section: 'HTTP',
  },
  maxHeaders: {
    type: integer(1), default: 100, placeholder: 'N', help: 'header fields per request; over it: 431',
    section: 'HTTP',
  },
  maxBodySize: {
    type: bytes(0, true), default: Infinity, placeholder: 'BYTES', help: 'request body; over it: 413',
    section: 'HTTP',
  },
  serverSoftware: {
    type: text(true), default: `starlight/${VERSION}`, defaultText: 'starlight/VERSION',
    placeholder: 'STR', help: 'the Server header; empty: none', section: 'HTTP',
  },
  forwardedAllowIps: {
    type: list(), default: ['127.0.0.1', '::1'], placeholder: 'LIST',
    help: 'peers whose X-Forwarded-For/-Proto and Forwarded headers are trusted', section: 'HTTP',
    available: false,
  },
  proxyProtocol: {
    type: boolean(), default: false, help: 'expect a PROXY protocol v1/v2 header on each connection',
    section: 'HTTP', available: false,
  },
  // Application and logs
  env: {
    aliases: ['-E'], type: text(), default: (env) => env['NODE_ENV'] || 'production',
    defaultText: 'NODE_ENV or production', placeholder: 'NAME',
    help: 'sets NODE_ENV; development adds an access log on stderr, stack traces and app checks',
    section: 'Application and logs',
  },
  import: {
    type: repeated(), default: [], placeholder: 'MODULE',
    help: 'preload MODULE in every worker (repeatable): instrumentation, a TypeScript loader',
    section: 'Application and logs',
  },
  eval: {
    aliases: ['-e'], type: text(), default: undefined, placeholder: 'CODE',
    help: "the app module's source, inline (instead of APP)", section: 'Application and logs',
  },
  fastFetch: {
    type: boolean(), default: true,
    help: 'a lazy Request and a lighter global Response in the workers; --no-fast-fetch: the platform\'s own',
    section: 'Application and logs',
  },
  reload: {
    aliases: ['-r'], type: boolean(), default: false, help: 'on file changes, restart the workers',
    section: 'Application and logs', available: false,
  },
  reloadDirs: {
    aliases: ['-R'], type: list(), default: [], placeholder: 'DIRS',
    help: 'directories watched for --reload (comma-separated)', section: 'Application and logs',
    available: false,
  },
  accessLog: {
    type: text(), default: undefined, placeholder: 'FILE', help: 'append an access log to FILE; -: stderr',
    section: 'Application and logs', available: false,
  },
  accessLogFormat: {
    type: text(), default: 'combined', placeholder: 'FORMAT',
    help: 'combined, common, json or an Apache-style template', section: 'Application and logs',
    available: false,
  },
  errorLog: {
    type: text(), default: undefined, defaultText: 'stderr', placeholder: 'FILE',
    help: 'where the banner, warnings and app errors go', section: 'Application and logs',
    available: false,
  },
  quiet: {
    aliases: ['-q'], type: boolean(), default: false, help: 'no banner', section: 'Application and logs',
  },
  statusPath: {
    type: text(), default: undefined, placeholder: 'PATH',
    help: 'serve the server-status page (text, JSON, Prometheus) at PATH', section: 'Application and logs',
    available: false,
  },
  statusAllow: {
    type: list(), default: ['127.0.0.1', '::1'], placeholder: 'LIST',
    help: 'peers allowed to see the status page', section: 'Application and logs', available: false,
  },
};

const ACTIONS: readonly ActionOption[] = [
  { kind: 'action', action: 'help', name: 'help', aliases: ['-h'], help: 'show this help', section: 'Other' },
  {
    kind: 'action', action: 'version', name: 'version', aliases: ['-v'], help: 'show the version',
    section: 'Other',
  },
];

const kebab = (key: string): string => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

function resolve<K extends keyof Options>(key: K): ValueOption<K> {
  const entry: Entry<K> = TABLE[key];
  const name = kebab(key);
  return {
    kind: 'value',
    key,
    name,
    aliases: entry.aliases ?? [],
    env: [`STARLIGHT_${name.toUpperCase().replaceAll('-', '_')}`, ...(entry.moreEnv ?? [])],
    type: entry.type,
    default: entry.default,
    defaultText: entry.defaultText,
    placeholder: entry.placeholder,
    help: entry.help,
    section: entry.section,
    available: entry.available ?? true,
  };
}

/** Every value option, in table order. */
export const VALUE_OPTIONS: readonly ValueOption[] = (Object.keys(TABLE) as (keyof Options)[]).map(resolve);

/** The whole table: the value options, then --help and --version. */
export const OPTIONS: readonly OptionSpec[] = [...VALUE_OPTIONS, ...ACTIONS];

/** The table entry of one option. */
export function optionFor<K extends keyof Options>(key: K): ValueOption<K> {
  return VALUE_OPTIONS.find((spec) => spec.key === key) as ValueOption<K>;
}

/** Every way to write an option on the command line: `--port`, `-p`. */
export function spellings(spec: OptionSpec): string[] {
  return [`--${spec.name}`, ...spec.aliases];
}
