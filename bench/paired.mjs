// `npm run bench -- --paired`: two servers measured at the same time, so that whatever else
// the machine does in those seconds falls on both alike. Both run pinned to the server CPU,
// each under its own `wrk -t1 -c64` on the client CPU; for each workload they are started,
// checked, warmed up together for 1 s, then measured together --rounds times. In a round,
// the CPU time of each server's processes (a starlight master and its worker) over the
// requests it answered gives its CPU µs per request, and the second server's over the first's
// is the round's ratio (below 1: the second is cheaper). Two servers sharing a CPU each cost
// more per request than one alone, so the figures are for comparing, not quoting. On the
// machine this was written on, where one run after another moved by 15%, the rounds of a run
// mostly agreed within 2-6% (a stray round further off, hence the median), and the medians of
// runs an hour apart within 5-10%: run it again later before trusting a smaller difference.
// `node bench/run.mjs --paired --help` for the flags.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childrenOf, cpuMs, freePort, onCpu, pinSelf, pinning, start, stop } from './proc.mjs';
import { WARMUP_S, WORKLOADS, appFile, median, nodeHttpArgv, oneOf, ready, requireWrk, starletArgv, starletMissing, starlightArgv, wholeNumber, wrk } from './workloads.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** starlight of the checkout `dir` (a master and one worker) serving the app of `flavour` (fetch, node or express), with extra flags. */
const starlight = (flavour) => (port, app, { flags, dir }) => starlightArgv({ port, flags, app: appFile(flavour, app), dir });
/** node:http (bench/node-http.mjs, one process) serving the app of `flavour` (node or express). */
const nodeHttp = (flavour) => (port, app) => nodeHttpArgv(port, appFile(flavour, app));
const SERVERS = {
  starlight: { about: 'starlight serving the Fetch app (a master and one worker)', argv: starlight('fetch'), isStarlight: true },
  'starlight-node': { about: 'starlight serving the (req, res) app (a master and one worker)', argv: starlight('node'), isStarlight: true },
  'node-http': { about: 'node:http serving the (req, res) app, one process', argv: nodeHttp('node'), isStarlight: false },
  'express-starlight': { about: 'starlight serving the Express 5 app (bench/apps/express)', argv: starlight('express'), isStarlight: true },
  express: { about: 'node:http serving the Express 5 app, one process', argv: nodeHttp('express'), isStarlight: false },
  starlet: {
    about: 'Starlet (Perl) with one worker, where perl has it; plaintext, pipelined and no-keepalive only',
    argv: (port, app) => starletArgv(port, 1, app),
    isStarlight: false,
    apps: ['plaintext'],
    unavailable: starletMissing,
  },
};
/** The workloads without TLS (`npm run bench` measures plaintext-tls, on a certificate made for the run). */
const PAIRED_WORKLOADS = Object.fromEntries(Object.entries(WORKLOADS).filter(([, w]) => !w.tls));

const HELP = `Usage: npm run bench -- --paired [options]   (or: node bench/run.mjs --paired [options] after npm run build)

  --servers A,B     the two servers, the first the baseline of the ratio (default node-http,starlight-node)
  --flags-a "F"     extra starlight flags for the first server (e.g. --flags-a=--server-software=)
  --flags-b "F"     extra starlight flags for the second server
  --dir-a DIR       the starlight checkout (built) the first server runs from (default: this one),
  --dir-b DIR       and the second's: two versions of the code compared
  --workloads A,B   which workloads (default: all that both servers serve)
  --duration S      measured seconds per round, after ${WARMUP_S} s of warm-up (default 5)
  --rounds N        rounds per workload (default 3)
  -h, --help

Servers:
${Object.entries(SERVERS).map(([k, s]) => `  ${k.padEnd(18)} ${s.about}`).join('\n')}
Workloads:
${Object.entries(PAIRED_WORKLOADS).map(([k, w]) => `  ${k.padEnd(13)} ${w.about}`).join('\n')}`;

function options(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--paired'),
    options: {
      servers: { type: 'string', default: 'node-http,starlight-node' },
      'flags-a': { type: 'string', default: '' },
      'flags-b': { type: 'string', default: '' },
      'dir-a': { type: 'string' },
      'dir-b': { type: 'string' },
      workloads: { type: 'string' },
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return null;
  const ids = oneOf('--servers', values.servers, SERVERS);
  if (ids.length !== 2) throw new Error(`--servers names two servers, not ${ids.length}: ${values.servers}`);
  const pair = ids.map((id, i) => {
    const side = 'ab'[i];
    const flags = values[`flags-${side}`].split(' ').filter(Boolean);
    const dir = values[`dir-${side}`];
    if (flags.length && !SERVERS[id].isStarlight) throw new Error(`--flags-${side}: ${id} takes no starlight flags`);
    if (dir !== undefined && !SERVERS[id].isStarlight) throw new Error(`--dir-${side}: ${id} is not starlight`);
    if (dir !== undefined && !existsSync(join(dir, 'bin/starlight.js'))) throw new Error(`--dir-${side}: ${join(resolve(dir), 'bin/starlight.js')} does not exist`);
    return { id, flags, dir: resolve(dir ?? ROOT), label: [id, ...(dir === undefined ? [] : [`(${dir})`]), ...flags].join(' ') };
  });
  if (pair[0].label === pair[1].label) pair.forEach((side, i) => (side.label += ` (${'ab'[i]})`));
  for (const { id } of pair) {
    const why = SERVERS[id].unavailable?.() ?? null;
    if (why !== null) throw new Error(`${id} cannot run here: ${why}`);
  }
  // The workloads whose app both servers have.
  const served = Object.keys(PAIRED_WORKLOADS).filter((w) => pair.every(({ id }) => SERVERS[id].apps?.includes(PAIRED_WORKLOADS[w].app) ?? true));
  const workloads = values.workloads === undefined ? served : oneOf('--workloads', values.workloads, PAIRED_WORKLOADS);
  const unserved = workloads.filter((w) => !served.includes(w));
  if (unserved.length) throw new Error(`--workloads: ${unserved.join(', ')} not served by both ${ids.join(' and ')} (both serve: ${served.join(', ')})`);
  return {
    pair,
    workloads,
    duration: wholeNumber('--duration', values.duration),
    rounds: wholeNumber('--rounds', values.rounds),
  };
}

/** The CPU time, in ms, of a server's processes: the one started and its children (a starlight master's worker). */
const serverCpuMs = (pid) => childrenOf(pid).reduce((sum, child) => sum + cpuMs(child), cpuMs(pid));

/** Two free ports, not the same one (neither server has bound its own yet when the second is asked for). */
async function twoPorts() {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

/** One workload: both servers started, checked and warmed up, then measured together `rounds` times; each round's [first, second] figures. */
async function measurePair(pair, workload, o, pin) {
  const app = PAIRED_WORKLOADS[workload].app;
  const ports = await twoPorts();
  const procs = pair.map((side, i) => start(onCpu(pin?.server, SERVERS[side.id].argv(ports[i], app, side))));
  try {
    await Promise.all(procs.map((proc, i) => ready(proc, ports[i], app, null)));
    await Promise.all(ports.map((port) => wrk(port, workload, WARMUP_S, pin)));
    const rounds = [];
    for (let r = 0; r < o.rounds; r++) {
      const before = procs.map((proc) => serverCpuMs(proc.pid));
      const results = await Promise.all(ports.map((port) => wrk(port, workload, o.duration, pin)));
      const after = procs.map((proc) => serverCpuMs(proc.pid));
      rounds.push(results.map((res, i) => ({ rps: res.requests / (res.duration_us / 1e6), us: ((after[i] - before[i]) * 1000) / res.requests, errors: res.errors })));
    }
    return rounds;
  } finally {
    await Promise.all(procs.map((proc) => stop(proc.pid)));
  }
}

/** A workload's rounds in sum: each server's median req/s and CPU µs per request, each round's ratio (second over first) and their median. */
export function pairSummary(rounds) {
  const side = (i) => ({ rps: median(rounds.map((round) => round[i].rps)), us: median(rounds.map((round) => round[i].us)) });
  const ratios = rounds.map(([a, b]) => b.us / a.us);
  const errors = rounds.reduce((sum, [a, b]) => sum + a.errors + b.errors, 0);
  return { a: side(0), b: side(1), ratios, ratio: median(ratios), errors };
}

/** The Markdown table of the summaries ({ workload, summary } or { workload, error }), for servers labelled `a` and `b`. */
export function pairedTable(rows, [a, b]) {
  const whole = (n) => Math.round(n).toLocaleString('en-US');
  const lines = [
    `| workload | ${a}: CPU µs/request | ${b}: CPU µs/request | ${b} ÷ ${a}, each round | median | ${a}: req/s | ${b}: req/s | errors |`,
    '|:--|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const { workload, summary, error } of rows) {
    if (error !== undefined) lines.push(`| ${workload} | failed: ${error.replace(/[|\n]/g, ' ').slice(0, 300)} | | | | | | |`);
    else {
      const { a: first, b: second, ratios, ratio, errors } = summary;
      lines.push(`| ${workload} | ${first.us.toFixed(1)} | ${second.us.toFixed(1)} | ${ratios.map((x) => x.toFixed(3)).join(', ')} | **${ratio.toFixed(3)}** | ${whole(first.rps)} | ${whole(second.rps)} | ${errors} |`);
    }
  }
  return lines.join('\n');
}

export async function paired(argv) {
  const o = options(argv);
  if (o === null) {
    console.log(HELP);
    return 0;
  }
  requireWrk();
  const pin = pinning();
  if (pin) pinSelf(pin.client); // this script shares wrk's CPU, never the servers'
  const labels = o.pair.map((side) => side.label);
  console.error(
    `bench --paired: ${labels.join(' and ')} at once, ${pin ? `both on CPU ${pin.server}, a wrk each on CPU ${pin.client}` : 'not pinned (no taskset or one CPU)'}; ` +
      `${o.rounds} round${o.rounds > 1 ? 's' : ''} of ${o.duration} s per workload`,
  );
  const rows = [];
  for (const workload of o.workloads) {
    const row = await measurePair(o.pair, workload, o, pin).then(
      (rounds) => ({ workload, summary: pairSummary(rounds) }),
      (e) => ({ workload, error: e.message }),
    );
    rows.push(row);
    console.error(`${workload}: ${row.error !== undefined ? `failed: ${row.error}` : `${labels[1]} ÷ ${labels[0]}, CPU per request: ${row.summary.ratios.map((x) => x.toFixed(3)).join(', ')}`}`);
  }
  console.log(`\n${pairedTable(rows, labels)}\n`);
  return rows.some((row) => row.error !== undefined || row.summary.errors > 0) ? 1 : 0;
}
