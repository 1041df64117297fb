// `npm run bench -- --paired` (bench/paired.mjs): the sums of its rounds and its table, given
// figures; and one short real run of two servers at once (needs wrk; skipped with a message
// where it is missing). No figure is judged here: only that each is measured and reported.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { pairedTable, pairSummary } from '../../bench/paired.mjs';
import { starletMissing } from '../../bench/workloads.mjs';

const RUN = fileURLToPath(new URL('../../bench/run.mjs', import.meta.url));
const hasWrk = !spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error;

const round = (aRps, aUs, bRps, bUs, errors = 0) => [
  { rps: aRps, us: aUs, errors },
  { rps: bRps, us: bUs, errors: 0 },
];

test('a workload\'s rounds: each round\'s ratio is the second server\'s CPU per request over the first\'s; the medians of each figure', () => {
  const summary = pairSummary([round(1000, 10, 900, 12), round(3000, 20, 2000, 21), round(2000, 40, 1000, 30, 2)]);
  assert.deepEqual(summary.ratios, [1.2, 1.05, 0.75]);
  assert.equal(summary.ratio, 1.05);
  assert.deepEqual(summary.a, { rps: 2000, us: 20 });
  assert.deepEqual(summary.b, { rps: 1000, us: 21 });
  assert.equal(summary.errors, 2);
  assert.equal(pairSummary([round(1, 10, 1, 12), round(1, 10, 1, 8)]).ratio, 1, 'an even count: the mean of the middle two');
});

test('the table: a row per workload with both servers\' figures, the rounds\' ratios and their median; a failure says why, on its row', () => {
  const table = pairedTable(
    [
      { workload: 'plaintext', summary: pairSummary([round(12345.6, 10, 23456.7, 12)]) },
      { workload: 'echo', error: 'wrong answer | 500\nsecond line' },
    ],
    ['node-http', 'starlight-node'],
  );
  const lines = table.split('\n');
  assert.match(lines[0], /^\| workload \| node-http: CPU µs\/request \| starlight-node: CPU µs\/request \| starlight-node ÷ node-http, each round \| median \|/);
  assert.equal(lines[2], '| plaintext | 10.0 | 12.0 | 1.200 | **1.200** | 12,346 | 23,457 | 0 |');
  assert.equal(lines[3], '| echo | failed: wrong answer   500 second line | | | | | | |');
  for (const line of lines) assert.equal(line.split('|').length, 10, `one cell per column: ${line}`);
});

function bench(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [RUN, '--paired', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('a short real run: both servers answer at once, each one\'s CPU per request is measured, and the same server twice is told apart by its flags', { skip: hasWrk ? false : 'wrk is not installed (apt-get install wrk)', timeout: 60000 }, async () => {
  const { code, output } = await bench(['--servers', 'starlight,starlight', '--flags-b=--server-software=', '--workloads', 'plaintext', '--duration', '1', '--rounds', '2']);
  assert.equal(code, 0, output);
  const row = output.split('\n').find((line) => line.startsWith('| plaintext |'));
  assert.ok(row, output);
  const [, , aUs, bUs, ratios, median, aRps, bRps, errors] = row.split('|').map((cell) => cell.trim());
  for (const figure of [aUs, bUs, aRps, bRps]) assert.ok(Number(figure.replace(/,/g, '')) > 0, row);
  assert.equal(ratios.split(', ').length, 2, row);
  assert.ok(Number(median.replace(/\*/g, '')) > 0, row);
  assert.equal(errors, '0');
  assert.match(output, /\| starlight: CPU µs\/request \| starlight --server-software=: CPU µs\/request \|/);
});

// (Not pipelined: Express answers 1,024 requests in flight slowly enough, on a busy machine, for wrk to time some out.)
test('Express on node:http against Express on starlight: the same Express 5 apps (bench/apps/express), each answer checked', { skip: hasWrk ? false : 'wrk is not installed (apt-get install wrk)', timeout: 120000 }, async () => {
  const workloads = ['plaintext', 'json', 'echo', 'headers', 'no-keepalive'];
  const { code, output } = await bench(['--servers', 'express,express-starlight', '--workloads', workloads.join(','), '--duration', '1', '--rounds', '1']);
  assert.equal(code, 0, output);
  for (const workload of workloads) {
    const row = output.split('\n').find((line) => line.startsWith(`| ${workload} |`));
    assert.ok(row && !row.includes('failed'), `${workload}: ${row ?? output}`);
  }
  assert.match(output, /\| express: CPU µs\/request \| express-starlight: CPU µs\/request \|/);
});

test('a wrong flag is refused with a clear message before anything starts', async () => {
  const { code, output } = await bench(['--servers', 'node-http,starlight', '--flags-a=--quiet']);
  assert.equal(code, 1);
  assert.match(output, /--flags-a: node-http takes no starlight flags/);
});

test('a workload one of the two has no app for is refused before anything starts (Starlet has plaintext only), or Starlet where perl lacks it', async () => {
  const { code, output } = await bench(['--servers', 'starlet,starlight', '--workloads', 'plaintext,echo']);
  assert.equal(code, 1);
  const missing = starletMissing();
  if (missing === null) assert.match(output, /--workloads: echo not served by both starlet and starlight \(both serve: plaintext, pipelined, no-keepalive\)/);
  else assert.match(output, new RegExp(`starlet cannot run here: ${missing.replace(/[()]/g, '\\$&')}`));
});
