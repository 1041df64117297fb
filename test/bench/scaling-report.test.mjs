// bench/scaling-report.mjs: the report and chart of `npm run bench -- --scaling`, given rows
// as bench/scaling.mjs measures them (no server runs here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { projection, scalingReport, scalingSvg, scalingTable, withLinear } from '../../bench/scaling-report.mjs';

const row = (workload, server, workers, rps, master_us, workers_us) => ({ workload, server, label: server, workers, rps, errors: 0, master_us, workers_us });
const ROWS = [
  row('plaintext', 'a', 1, 1000, 0.5, 20),
  row('plaintext', 'a', 2, 1500, 0.5, 25),
  row('plaintext', 'a', 4, 4000, 0.5, 30),
  row('plaintext', 'b', 2, 3000, 100, 100),
  row('plaintext', 'b', 4, 3000, 100, 100),
  { workload: 'plaintext', server: 'c', label: 'c <&>', workers: 1, error: 'no answer | within 15 s' },
];
const META = {
  date: '2026-01-02T03:04:05.000Z',
  cpu: 'Test CPU',
  cores: 4,
  node: 'v20.0.0',
  clientCpus: [0],
  serverCpus: [1, 2, 3],
  workers: [1, 2, 4],
  connections: 64,
  warmup_s: 1,
  duration_s: 5,
  projectCores: 16,
  skipped: [{ label: 'Starlet', why: 'perl -MStarlet -e1 fails' }],
};

test('×linear compares each row with perfect scaling from its server\'s smallest worker count', () => {
  const linear = withLinear(ROWS);
  const of = (server, workers) => linear.find((r) => r.server === server && r.workers === workers).linear;
  assert.equal(of('a', 1), 1);
  assert.equal(of('a', 2), 1500 / 2000);
  assert.equal(of('a', 4), 4000 / 4000);
  assert.equal(of('b', 2), 1, 'b starts at 2 workers: its own first point is the reference');
  assert.equal(of('b', 4), 3000 / 6000);
  assert.equal(of('c', 1), null, 'a failed row has none');
});

test('the table has a row per measurement, the same columns in each, and a failed row says why', () => {
  const lines = scalingTable(ROWS).split('\n');
  assert.equal(lines.length, 2 + ROWS.length);
  const columns = (line) => line.split('|').length;
  assert.ok(lines.every((l) => columns(l) === columns(lines[0])), 'a | in an error must not add a column');
  const failed = lines.find((l) => l.includes('c <&>'));
  assert.match(failed, /failed/);
  assert.match(failed, /no answer/);
  assert.match(lines.find((l) => l.startsWith('| plaintext | a | 2 |')), /\| 1,500 \| 0\.75 \|/);
});

test('the projection starts from each server\'s most workers and names what stops scaling first', () => {
  const p = projection(ROWS, 16);
  const a = p.find((x) => x.label === 'a');
  const b = p.find((x) => x.label === 'b');
  assert.equal(p.length, 2, 'one per server that has figures');
  assert.equal(a.from, 4);
  assert.equal(a.coresCeiling, (16 * 1e6) / 30.5);
  assert.equal(a.masterCeiling, 1e6 / 0.5);
  assert.match(a.limit, /cores/);
  assert.equal(b.masterCeiling, 1e6 / 100);
  assert.match(b.limit, /master/, 'a master at 100 µs/req saturates before 16 cores do');
});

test('the report says how it was measured, what was skipped and where the chart is', () => {
  const report = scalingReport(ROWS, META, 'chart.svg');
  assert.match(report, /Starlet: skipped, perl -MStarlet -e1 fails/);
  assert.match(report, /!\[\]\(chart\.svg\)/);
  assert.match(report, /pinned to CPU 0/);
  assert.match(report, /Projection to 16 cores/);
  const shared = scalingReport(ROWS, { ...META, serverCpus: [1] }, 'chart.svg');
  assert.match(shared, /share that one core/, 'more workers than server CPUs is said');
  assert.doesNotMatch(report, /share that one core/);
});

test('the chart draws a line per server and workload, inside its canvas, with labels escaped', () => {
  const svg = scalingSvg(ROWS, META);
  const [w, h] = /viewBox="0 0 (\d+) (\d+)"/.exec(svg).slice(1).map(Number);
  const solid = [...svg.matchAll(/<polyline fill="none" stroke="[^"]+" stroke-width="2" points="([^"]+)"/g)].map((m) => m[1].split(' '));
  assert.deepEqual(solid.map((points) => points.length), [3, 2], 'a: 3 points, b: 2 points, c: none (it failed)');
  for (const [x, y] of solid.flat().map((p) => p.split(',').map(Number))) {
    assert.ok(x >= 0 && x <= w && y >= 0 && y <= h, `${x},${y} is outside ${w}×${h}`);
  }
  assert.ok(svg.includes('c &lt;&amp;&gt;'));
  assert.ok(!svg.includes('c <&>'));
});
