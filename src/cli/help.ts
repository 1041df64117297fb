// The --help text and the Markdown options reference (docs/options.md), both generated from the
// option table, the master's signal table and the examples below, so that neither can say
// something the parser or the master does not do.
import { OPTIONS, SECTIONS, spellings, type OptionSpec } from '../config/options.js';
import { SIGNAL_TABLE } from '../config/signals.js';

const WIDTH = 100;

// Prose shared by the help and the docs; `code` spans are kept in Markdown, dropped in help.
const ABOUT: readonly string[] = [
  'APP is a module file (`.js`, `.mjs`, `.cjs`, `.ts`, `.mts`, `.cts`) whose default export is a ' +
    'Fetch app (`{ fetch }`), a `(req, res)` listener or an object with `callback()`. Without APP, ' +
    'the first of `app.ts`, `app.mts`, `app.js`, `app.mjs`, `app.cjs` in the current directory.',
];
const NOTES: readonly string[] = [
  'Values: `--name=VALUE` or `--name VALUE`; short options `-p 8080` or `-p8080`; `--` ends the ' +
    'options. On/off options never take the next argument: `--quiet`, `--no-quiet` or ' +
    '`--quiet=0|1` (also true/false, yes/no, on/off). SEC is a number of seconds (`0.5`); BYTES a ' +
    'number of bytes with an optional `k`, `m` or `g` (x1024, x1024^2, x1024^3).',
  'Every option can also be set in the environment as `STARLIGHT_<NAME>` (`STARLIGHT_WORKERS=4`; ' +
    'repeatable options comma-separated; empty variables are ignored), and the port as `PORT`. ' +
    "Precedence: command line, `STARLIGHT_*`, `PORT`, the app's own `port` and `hostname` " +
    'exports, the default.',
];

/** Command lines shown in the help and the docs, each with what it does. */
export const EXAMPLES: readonly { readonly does: string; readonly command: string }[] = [
  { does: 'serve app.mjs on port 5000 of every interface, one worker per CPU', command: 'starlight app.mjs' },
  { does: 'four workers on 127.0.0.1:8080, each replaced after 10000 requests', command: 'starlight -o 127.0.0.1 -p 8080 --workers=4 --max-reqs-per-child=10000 app.ts' },
  { does: 'two listeners, and no default port', command: 'starlight -l 127.0.0.1:8080 -l [::1]:8080 app.mjs' },
  { does: 'an inline app, served by this one process', command: `starlight --workers=0 -e 'export default { fetch: () => new Response("hi") }'` },
  { does: 'app.ts (or app.mjs…) of this directory, set from the environment', command: 'PORT=3000 STARLIGHT_WORKERS=2 starlight' },
  { does: 'write the master\'s pid, for signals: kill -HUP "$(cat /run/app.pid)" restarts the workers', command: 'starlight --pid=/run/app.pid app.mjs' },
];

export function helpText(): string {
  const rows = OPTIONS.map((spec) => {
    const [long = '', ...aliases] = longNames(spec);
    const short = shortNames(spec);
    // options without a short form are indented to line up with the long ones
    return { spec, aliases, names: `${short.length > 0 ? `${short.join(', ')}, ` : '    '}${long}` };
  });
  const column = 2 + Math.max(...rows.map((row) => row.names.length)) + 2;
  const lines = ['Usage: starlight [options] [APP]', '', ...paragraphs(ABOUT, plain)];
  for (const section of SECTIONS) {
    lines.push(`${section}:`);
    for (const { spec, aliases, names } of rows.filter((row) => row.spec.section === section)) {
      const defaultText = defaultOf(spec);
      const units = [
        ...spec.help.split(' '),
        ...(aliases.length > 0 ? [`[alias: ${aliases.join(', ')}]`] : []),
        ...(defaultText !== undefined ? [`[default: ${defaultText}]`] : []),
        ...(spec.kind === 'value' ? [`[env: ${spec.env.join(', ')}]`] : []),
      ];
      const [first, ...more] = wrap(units, WIDTH - column);
      lines.push(`  ${names.padEnd(column - 2)}${first}`, ...more.map((line) => ' '.repeat(column) + line));
    }
    lines.push('');
  }
  lines.push('Signals to the master:');
  const signals = SIGNAL_TABLE.map((row) => ({ names: row.names.join(', '), effect: row.effect }));
  const signalColumn = 2 + Math.max(...signals.map((row) => row.names.length)) + 2;
  for (const { names, effect } of signals) {
    const [first, ...more] = wrap(effect.split(' '), WIDTH - signalColumn);
    lines.push(`  ${names.padEnd(signalColumn - 2)}${first}`, ...more.map((line) => ' '.repeat(signalColumn) + line));
  }
  lines.push('', 'Examples:');
  for (const { does, command } of EXAMPLES) lines.push(`  # ${does}`, `  ${command}`);
  lines.push('', ...paragraphs(NOTES, plain));
  return `${lines.join('\n').trimEnd()}\n`;
}

export function optionsMarkdown(): string {
  const lines = [
    '# starlight options',
    '',
    '<!-- Generated from src/config/options.ts by `npm run docs`: do not edit. -->',
    '',
    '```',
    'starlight [options] [APP]',
    '```',
    '',
    ...paragraphs(ABOUT, same),
  ];
  for (const section of SECTIONS) {
    lines.push(`## ${section}`, '', '| option | default | environment | meaning |', '| --- | --- | --- | --- |');
    for (const spec of OPTIONS.filter((option) => option.section === section)) {
      const cells = [
        [...shortNames(spec), ...longNames(spec)].map(code).join(', '),
        defaultOf(spec) ?? '—',
        spec.kind === 'value' ? spec.env.map(code).join(', ') : '—',
        spec.help,
      ];
      lines.push(`| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push('## Signals to the master', '', '| signal | effect |', '| --- | --- |');
  for (const row of SIGNAL_TABLE) lines.push(`| ${row.names.join(', ')} | ${row.effect} |`);
  lines.push('', '## Examples', '', '```sh');
  lines.push(...EXAMPLES.flatMap(({ does, command }, index) => [...(index > 0 ? [''] : []), `# ${does}`, command]));
  lines.push('```', '', '## Notes', '', ...paragraphs(NOTES, same));
  return `${lines.join('\n').trimEnd()}\n`;
}

/** `-p` */
function shortNames(spec: OptionSpec): string[] {
  return spellings(spec).filter((name) => !name.startsWith('--'));
}

/** `--workers=N`, `--max-workers=N` */
function longNames(spec: OptionSpec): string[] {
  const value = spec.kind === 'value' && spec.placeholder !== undefined ? `=${spec.placeholder}` : '';
  return spellings(spec).filter((name) => name.startsWith('--')).map((name) => name + value);
}

/** The default in words; undefined when there is nothing to show (unset, empty or off). */
function defaultOf(spec: OptionSpec): string | undefined {
  if (spec.kind === 'action') return undefined;
  if (spec.defaultText !== undefined) return spec.defaultText;
  const value = spec.default;
  if (typeof value === 'function' || value === undefined || value === false) return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  return spec.type.format(value);
}

/** Wrapped paragraphs, each followed by an empty line; a `code span` is never split. */
function paragraphs(texts: readonly string[], render: (word: string) => string): string[] {
  return texts.flatMap((text) => [...wrap((text.match(/(?:`[^`]*`|[^\s`])+/g) ?? []).map(render), WIDTH), '']);
}

/** Lines of at most `width` columns, filled greedily with `units`. */
function wrap(units: readonly string[], width: number): string[] {
  const lines: string[] = [];
  for (const unit of units) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + unit.length <= width) lines[last] += ` ${unit}`;
    else lines.push(unit);
  }
  return lines;
}

const plain = (text: string): string => text.replaceAll('`', '');
const same = (text: string): string => text;
const code = (text: string): string => `\`${text}\``;
