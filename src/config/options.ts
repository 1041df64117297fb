// THE option table (SPEC §1.3): every option starlight accepts, with its spellings, the kind of
// value it takes (values.ts), its default, environment variables, help text, section and
// availability. The resolver (resolve.ts), the command line (cli/parse.ts), --help and
// docs/options.md (cli/help.ts) are generated from this table and nothing else, so adding or
// changing an option is one entry here.
import { availableParallelism } from 'node:os';
import { VERSION } from './version.js';
import { listenFormsHelp, listenSpec } from './listen.js';
import { addressRanges, boolean, bytes, count, integer, list, octal, oneOf, repeated, seconds, text, urlPath, type ValueType } from './values.js';

/** The directives an --access-log-format template may use (log/access-format.ts implements them). */
export const ACCESS_LOG_DIRECTIVES =
  '%h %a (client address), %A %p (local address and port), %l %u (always -), %t (local time as the line is written, [10/Oct/2000:13:55:36 -0700]), ' +
  '%r (request line), %m %U %q %H (method, path, ?query, protocol), %s %>s (status), %b %B (body bytes; none: - or 0), ' +
  '%D (duration in microseconds), %T %{s|ms|us}T (duration in seconds or the unit), %{NAME}i %{NAME}o (a request or response field), ' +
  '%P (pid), %% (a %)';

/**
 * The validated options, camelCase; TABLE below gives each one's spellings, default and meaning.
 * Durations (SEC on the command line) are in milliseconds here.
 */
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
  websocketMaxPayload: number;
  websocketDeflate: boolean;
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
    aliases: ['-l'], type: listenSpec(), default: [], placeholder: 'SPEC',
    help:
      `listen on SPEC (repeatable): ${listenFormsHelp()}. An explicit --host or --port adds its own ` +
      'listener; the default port is bound only when no listener is given',
    section: 'Listening',
  },
  socket: {
    aliases: ['-S'], type: text(), default: undefined, placeholder: 'PATH',
    help: 'UNIX socket; a leading @ makes a Linux abstract socket; a socket file left by a dead server is replaced, a live one is an error',
    section: 'Listening',
  },
  socketMode: {
    type: octal(), default: undefined, defaultText: 'from umask', placeholder: 'OCTAL',
    help: 'permissions of the socket files (set after binding, before listening)', section: 'Listening',
  },
  ipv6: {
    type: boolean(), default: true, help: 'dual-stack where IPv6 is available; --no-ipv6: IPv4 only',
    section: 'Listening',
  },
  backlog: {
    type: integer(1), default: 511, placeholder: 'N', help: 'listen backlog', section: 'Listening',
  },
  reusePort: {
    type: boolean(), default: false,
    help: 'Linux, Node 22.12+/23.1+: each worker accepts on a TCP socket of its own (SO_REUSEPORT) and the kernel deals the connections; new workers (HUP, recycling, USR2) take over the old ones\' sockets. UNIX and fd:// listeners are shared by the workers as without it',
    section: 'Listening',
  },
  ssl: {
    type: boolean(), default: false, help: 'TLS on the TCP listeners', section: 'Listening',
  },
  sslKeyFile: {
    type: text(), default: undefined, placeholder: 'FILE', help: 'PEM private key (required with --ssl)',
    section: 'Listening',
  },
  sslCertFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'PEM certificate chain (required with --ssl)', section: 'Listening',
  },
  sslCaFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'CAs that client certificates are verified against', section: 'Listening',
  },
  sslClientCaFile: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'CA names sent in the certificate request', section: 'Listening',
  },
  sslVerifyMode: {
    type: oneOf(0, 1, 3), default: 0, placeholder: 'N',
    help: 'client certificates: 0 none, 1 ask for one, 3 require one', section: 'Listening',
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
    type: seconds(true), default: 100, placeholder: 'SEC', help: "the master's housekeeping tick",
    section: 'Processes',
  },
  gracefulTimeout: {
    type: seconds(), default: 30_000, placeholder: 'SEC',
    help: 'how long stopping workers may take to finish in-flight requests before they are killed',
    section: 'Processes',
  },
  workerTimeout: {
    type: seconds(), default: 60_000, placeholder: 'SEC',
    help: 'a worker whose event loop is blocked this long is replaced; 0: never', section: 'Processes',
  },
  daemonize: {
    aliases: ['-D'], type: boolean(), default: false,
    help: 'run as a daemon (paths resolved first); the command exits 0 once it serves, else with its error',
    section: 'Processes',
  },
  pid: {
    type: text(), default: undefined, placeholder: 'FILE', help: "write the master's pid to FILE",
    section: 'Processes',
  },
  user: {
    type: text(), default: undefined, placeholder: 'USER', help: 'the workers run as this user (name or uid); the master binds, then forks them',
    section: 'Processes',
  },
  group: {
    type: text(), default: undefined, placeholder: 'GROUPS',
    help: "the workers' groups (names or gids, comma-separated; the first is the group); default: the user's",
    section: 'Processes',
  },
  umask: {
    type: octal(), default: undefined, placeholder: 'OCTAL', help: "umask of the workers, and of the master once it has bound",
    section: 'Processes',
  },
  // HTTP
  timeout: {
    type: seconds(), default: 300_000, placeholder: 'SEC',
    help: 'inactivity timeout while reading a request or writing a response', section: 'HTTP',
  },
  keepaliveTimeout: {
    type: seconds(), default: 5_000, placeholder: 'SEC',
    help: 'idle time allowed between requests on a persistent connection', section: 'HTTP',
  },
  maxKeepaliveReqs: {
    type: integer(1), default: 1000, placeholder: 'N', help: 'requests per connection; 1: no keep-alive',
    section: 'HTTP',
  },
  headerTimeout: {
    type: seconds(), default: 60_000, placeholder: 'SEC', help: 'deadline for a whole request head to arrive',
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
    help: 'peers whose X-Forwarded-For/-Proto/-Host and Forwarded headers are trusted (*: any)', section: 'HTTP',
  },
  proxyProtocol: {
    type: boolean(), default: false, help: 'expect a PROXY protocol v1/v2 header on each connection',
    section: 'HTTP',
  },
  // A message is held whole before the app gets it, and a worker holds many sockets: 16 MiB (as
  // Bun's default) rather than ws's 100 MiB. Node apps use their own ws and its options.
  websocketMaxPayload: {
    type: bytes(1), default: 16 * 1024 * 1024, placeholder: 'BYTES',
    help: "largest message on an upgradeWebSocket() WebSocket (ws's maxPayload); over it: close 1009",
    section: 'HTTP',
  },
  // Off, as in ws: compression costs each socket a zlib context (memory, CPU), and compressing
  // secrets beside what an attacker sends leaks them (CRIME/BREACH).
  websocketDeflate: {
    type: boolean(), default: false,
    help: "offer permessage-deflate on upgradeWebSocket() WebSockets (ws's perMessageDeflate)", section: 'HTTP',
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
    aliases: ['-r'], type: boolean(), default: false,
    help: "on a change to a file in the app's folder, a rolling restart (as HUP); not node_modules, dot-folders, dot-files, editors' backups; needs workers",
    section: 'Application and logs',
  },
  reloadDirs: {
    aliases: ['-R'], type: list(), default: [], placeholder: 'DIRS',
    help: "folders watched for --reload instead of the app's (comma-separated), with the folders under them; implies --reload",
    section: 'Application and logs',
  },
  accessLog: {
    type: text(), default: undefined, placeholder: 'FILE',
    help: 'append an access log to FILE (each process opens it; reopened on USR1); -: stderr',
    section: 'Application and logs',
  },
  accessLogFormat: {
    type: text(), default: 'combined', placeholder: 'FORMAT',
    help:
      'combined, common, json (one object per line) or an Apache-style template of these directives: ' +
      `${ACCESS_LOG_DIRECTIVES}. Client and app text is escaped (\\", \\\\, \\xHH); a request closed before its response began is logged 499`,
    section: 'Application and logs',
  },
  errorLog: {
    type: text(), default: undefined, defaultText: 'stderr', placeholder: 'FILE',
    help: "where the banner, warnings, app errors and the workers' output go; reopened on USR1",
    section: 'Application and logs',
  },
  quiet: {
    aliases: ['-q'], type: boolean(), default: false, help: 'no banner', section: 'Application and logs',
  },
  statusPath: {
    type: urlPath(), default: undefined, placeholder: 'PATH',
    help: 'serve the status page of the workers at PATH: text, ?json or ?prometheus',
    section: 'Application and logs',
  },
  statusAllow: {
    type: addressRanges(), default: ['127.0.0.1', '::1'], placeholder: 'LIST',
    help: 'clients allowed to see the status page (addresses, CIDR ranges); others get 403',
    section: 'Application and logs',
  },
};

const ACTIONS: readonly ActionOption[] = [
  { kind: 'action', action: 'help', name: 'help', aliases: ['-h'], help: 'show this help', section: 'Other' },
  {
    kind: 'action', action: 'version', name: 'version', aliases: ['-v'], help: 'show the version',
    section: 'Other',
  },
];

/** An option's key as its long name: `maxReqsPerChild` -> `max-reqs-per-child`. */
export const kebabCase = (key: string): string => key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** A long name as its key: `max-reqs-per-child` -> `maxReqsPerChild`. */
export const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

function resolve<K extends keyof Options>(key: K): ValueOption<K> {
  const entry: Entry<K> = TABLE[key];
  const name = kebabCase(key);
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

/** Every spelling (`--port`, `-p`, `--max-workers`) -> its option. */
export const BY_SPELLING = new Map<string, OptionSpec>(
  OPTIONS.flatMap((spec) => spellings(spec).map((name) => [name, spec] as const)),
);

/** Long spellings a misspelled option is compared with, `--no-NAME` of on/off options included. */
const LONG_SPELLINGS: readonly string[] = OPTIONS.flatMap((spec) => {
  const long = spellings(spec).filter((name) => name.startsWith('--'));
  return spec.kind === 'value' && spec.type.flag ? [...long, ...long.map((name) => `--no-${name.slice(2)}`)] : long;
});

/**
 * The option meant by a misspelling: within an edit distance of 2 (case and `_` ignored), else
 * one it is the start of (`--ssl-cert` -> `--ssl-cert-file`), else one that starts it.
 */
export function suggestion(name: string): string | undefined {
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

