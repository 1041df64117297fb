// The help text and docs/options.md come from the option table: the committed docs must be what
// the table generates now, and both must show every option.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { EXAMPLES, helpText, optionsMarkdown } from '../../dist/cli/help.js';
import { parseCommandLine } from '../../dist/cli/parse.js';
import { OPTIONS } from '../../dist/config/options.js';
import { SIGNALS, SIGNAL_TABLE } from '../../dist/config/signals.js';

const DOCS = new URL('../../docs/options.md', import.meta.url);

describe('docs/options.md', () => {
  test('is what the table generates (run `npm run docs` after changing an option)', () => {
    assert.equal(readFileSync(DOCS, 'utf8'), optionsMarkdown());
  });

  test('has one table row per option, with its names and environment variables', () => {
    const markdown = optionsMarkdown();
    const rows = markdown.split('\n').filter((line) => line.startsWith('| `'));
    assert.equal(rows.length, OPTIONS.length);
    for (const spec of OPTIONS) {
      const row = rows.find((line) => line.includes(`\`--${spec.name}`));
      assert.ok(row, spec.name);
      for (const alias of spec.aliases) assert.ok(row.includes(`\`${alias}`), `${spec.name}: ${alias}`);
      if (spec.kind === 'value') {
        for (const variable of spec.env) assert.ok(row.includes(`\`${variable}\``), `${spec.name}: ${variable}`);
      }
    }
    assert.match(markdown, /^\| `-p`, `--port=N` \| 5000 \| `STARLIGHT_PORT`, `PORT` \| TCP port \|$/m);
    assert.match(markdown, /^\| `--max-reqs-per-child=N\\\|inf`, `--max-requests=N\\\|inf` \| inf \|/m);
  });

  test('shows machine-dependent defaults in words', () => {
    const markdown = optionsMarkdown();
    assert.match(markdown, /\| `--workers=N`, `--max-workers=N` \| number of CPUs \|/);
    assert.match(markdown, /\| `-E`, `--env=NAME` \| NODE_ENV or production \|/);
    assert.match(markdown, /\| `--server-software=STR` \| starlight\/VERSION \|/);
  });
});

describe('--help', () => {
  const help = helpText();
  const lines = help.split('\n');

  test('fits in 100 columns', () => {
    for (const line of lines) assert.ok(line.length <= 100, `${line.length}: ${line}`);
  });

  test('has the usage line, the APP note and every section', () => {
    assert.equal(lines[0], 'Usage: starlight [options] [APP]');
    assert.match(help, /\.js, \.mjs, \.cjs, \.ts, \.mts, \.cts/);
    assert.match(help, /app\.ts,\s+app\.mts,\s+app\.js,\s+app\.mjs,\s+app\.cjs/);
    for (const section of ['Listening', 'Processes', 'HTTP', 'Application and logs']) {
      assert.ok(lines.includes(`${section}:`), section);
    }
  });

  test('lists every option, aligned, with default and environment', () => {
    assert.match(help, /^ {2}-p, --port=N +TCP port \[default: 5000\] \[env: STARLIGHT_PORT, PORT\]$/m);
    assert.match(help, /^ {6}--workers=N +worker processes;/m);
    assert.match(help, /\[alias: --max-workers=N\]\s+\[default: number of CPUs\]/);
    const column = lines.find((line) => line.startsWith('  -p, --port=N')).indexOf('TCP port');
    for (const spec of OPTIONS) {
      const names = new RegExp(`^  (?:-[a-zA-Z], | {4})--${spec.name}(?:=| |$)`);
      const line = lines.find((candidate) => names.test(candidate));
      assert.ok(line, spec.name);
      assert.equal(line.slice(column).trimStart(), line.slice(column), `${spec.name} is not aligned`);
      assert.ok(line[column - 1] === ' ' && line[column] !== ' ', `${spec.name} is not aligned`);
    }
    for (const spec of OPTIONS.filter((option) => option.kind === 'value')) {
      assert.ok(help.includes(`[env: ${spec.env.join(', ')}]`), spec.name);
    }
  });
});

describe('signals and examples, in --help and docs/options.md', () => {
  const help = helpText();
  const markdown = optionsMarkdown();

  test('the signal table: every signal the master acts on, with its effect', () => {
    assert.deepEqual(SIGNALS, ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGTTIN', 'SIGTTOU', 'SIGUSR1', 'SIGUSR2']);
    const section = help.slice(help.indexOf('\nSignals to the master:\n'), help.indexOf('\nExamples:\n'));
    assert.match(section, /^ {2}TERM, INT {3}graceful stop: /m);
    assert.match(section, /^ {2}HUP {9}rolling restart: /m);
    for (const row of SIGNAL_TABLE) {
      // (one column, wide enough for the longest names, "TTIN, TTOU"; wrapped lines joined)
      assert.ok(section.replace(/\n {14}/g, ' ').includes(`\n  ${row.names.join(', ').padEnd(12)}${row.effect}\n`), row.names.join());
      assert.ok(markdown.includes(`\n| ${row.names.join(', ')} | ${row.effect} |\n`), row.names.join());
    }
  });

  test('the examples: each a command line that parses, shown with what it does', () => {
    assert.ok(EXAMPLES.length >= 4);
    for (const { does, command } of EXAMPLES) {
      assert.ok(help.includes(`\n  # ${does}\n  ${command}\n`), command);
      assert.ok(markdown.includes(`# ${does}\n${command}\n`), command);
      // shell words: VAR=value assignments, then starlight and its arguments ('…' quoted)
      const words = command.match(/'[^']*'|\S+/g).map((word) => word.replace(/^'(.*)'$/, '$1'));
      const env = {};
      while (/^[A-Z_]+=/.test(words[0])) {
        const [name, ...value] = words.shift().split('=');
        env[name] = value.join('=');
      }
      assert.equal(words.shift(), 'starlight', command);
      assert.equal(parseCommandLine(words, env).action, 'serve', command);
    }
  });
});
