// `npm run bench`: starlight against plain node:http on seven workloads, one server at a time
// (plaintext-tls: starlight --ssl against node:https, on one certificate made by openssl).
// Each server runs pinned to CPU 1 and wrk to CPU 0 (where taskset and two CPUs exist) on a
// fresh port of 127.0.0.1; its answer is checked, then 1 s of warm-up and N s measured with
// `wrk -t1 -c64`. Prints a markdown table and writes bench/results.json, docs/bench.svg and
// the README section between the bench markers. `node bench/run.mjs --help` for the flags;
// with --scaling it runs bench/scaling.mjs instead, with --paired bench/paired.mjs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, onCpu, peakRssMiB, pinSelf, pinning, servingPid, start, stop, stopAll } from './proc.mjs';
import { chartSvg, readmeSection, resultTable } from './report.mjs';
import { CONNECTIONS, THREADS, WARMUP_S, WORKLOADS, appFile, median, nodeHttpArgv, oneOf, ready, requireWrk, starlightArgv, tlsFiles, wholeNumber, wrk } from './workloads.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');

// A server's command for an app; `tls` (the key and certificate files) for a TLS workload.
const starlight = (...flags) => (port, app, tls) =>
  starlightArgv({ port, flags: [...flags, ...(tls ? ['--ssl', `--ssl-key-file=${tls.key}`, `--ssl-cert-file=${tls.cert}`] : [])], app: appFile('fetch', app) });
const DEFAULT_SERVERS = [
  { id: 'starlight', label: 'starlight', argv: starlight() },
  { id: 'no-fast-fetch', label: 'starlight --no-fast-fetch', argv: starlight('--no-fast-fetch') },
  { id: 'node-http', label: 'node:http', argv: (port, app, tls) => nodeHttpArgv(port, appFile('node', app), tls) },
];

/** --access-log: starlight writing the combined access log to a file (in a folder made for the run). */
function accessLogServer() {
  const dir = mkdtempSync(join(os.tmpdir(), 'starlight-bench-log-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { id: 'access-log', label: 'starlight --access-log', argv: starlight(`--access-log=${join(dir, 'access.log')}`) };
}

/** The servers measured: the default three, with starlight --access-log after starlight when asked for. */
let SERVERS = DEFAULT_SERVERS;

const HELP = `Usage: npm run bench [-- options]   (or: node bench/run.mjs [options] after npm run build)

  --duration S      measured seconds per server and workload, after ${WARMUP_S} s of warm-up (default 5)
  --workloads A,B   which workloads (default: all)
  --rounds N        run the whole set N times and keep the median of each figure (default 1)
  --no-write        print the table only: leave bench/results.json, docs/bench.svg and README.md
  --access-log      also measure starlight with --access-log (combined, to a file) (implies --no-write)
  --scaling         instead: req/s by number of workers, starlight against node:cluster and Starlet
                    (bench/scaling.mjs; --scaling --help for its options)
  --paired          instead: two servers at once on one CPU, their CPU per request compared round
                    by round, for differences smaller than the noise between runs
                    (bench/paired.mjs; --paired --help for its options)
  -h, --help

Servers: ${DEFAULT_SERVERS.map((s) => s.label).join(', ')}
Workloads:
${Object.entries(WORKLOADS).map(([k, w]) => `  ${k.padEnd(13)} ${w.about}`).join('\n')}`;

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '5' },
      workloads: { type: 'string', default: Object.keys(WORKLOADS).join(',') },
      rounds: { type: 'string', default: '1' },
      'no-write': { type: 'boolean', default: false },
      'access-log': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  if (values['access-log']) SERVERS = [DEFAULT_SERVERS[0], accessLogServer(), ...DEFAULT_SERVERS.slice(1)];
  const duration = wholeNumber('--duration', values.duration);
  const rounds = wholeNumber('--rounds', values.rounds);
  return { duration, rounds, workloads: oneOf('--workloads', values.workloads, WORKLOADS), write: !values['no-write'] && !values['access-log'] };
}

/** One server on one workload: start it, check it, warm up, measure, stop it. */
async function measure(server, workload, duration, pin) {
  const port = await freePort();
  const tls = WORKLOADS[workload].tls ? tlsFiles() : null;
  const proc = start(onCpu(pin?.server, server.argv(port, WORKLOADS[workload].app, tls)));
  try {
    await ready(proc, port, WORKLOADS[workload].app, tls);
    await wrk(port, workload, WARMUP_S, pin);
    const r = await wrk(port, workload, duration, pin);
    const latency = (us) => (us > 0 ? us / 1000 : null);
    const serving = servingPid(proc.pid);
    return {
      rps: r.requests / (r.duration_us / 1e6),
      p50_ms: latency(r.p50_us),
      p99_ms: latency(r.p99_us),
      errors: r.errors,
      rss_mib: peakRssMiB(serving),
      master_rss_mib: serving === proc.pid ? null : peakRssMiB(proc.pid),
    };
  } finally {
    await stop(proc.pid);
  }
}

/** The median of each figure over the rounds, and each server's ratio to node:http. */
function combine(rounds, workloads) {
  const cells = {};
  for (const w of workloads) {
    cells[w] = {};
    for (const { id } of SERVERS) {
      const runs = rounds.map((r) => r[w][id]);
      const failed = runs.find((c) => c.error);
      cells[w][id] = failed ?? Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((c) => c[k]))]));
    }
    const base = cells[w]['node-http'];
    for (const { id } of SERVERS) if (!cells[w][id].error) cells[w][id].ratio = base.error ? null : cells[w][id].rps / base.rps;
  }
  return cells;
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  return {
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU',
    cores: os.cpus().length,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    wrk: /^wrk \S+/.exec(spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout)?.[0] ?? 'wrk',
  };
}

const shorten = (arg) => (arg === process.execPath ? 'node' : arg.startsWith(ROOT) ? relative(ROOT, arg) : arg);

/** Replaces what is between the bench markers of README.md. */
function writeReadme(section) {
  const file = join(ROOT, 'README.md');
  const text = readFileSync(file, 'utf8');
  const re = /(<!-- bench:start -->\n)[\s\S]*?(<!-- bench:end -->)/;
  if (!re.test(text)) throw new Error('README.md has no <!-- bench:start --> … <!-- bench:end --> markers');
  writeFileSync(file, text.replace(re, (_, a, b) => `${a}${section}\n${b}`));
}

async function main() {
  if (process.argv.includes('--scaling')) {
    const { scaling } = await import('./scaling.mjs');
    process.exitCode = await scaling(process.argv.slice(2));
    return;
  }
  if (process.argv.includes('--paired')) {
    const { paired } = await import('./paired.mjs');
    process.exitCode = await paired(process.argv.slice(2));
    return;
  }
  const o = options();
  requireWrk();
  const t0 = Date.now();
  const pin = pinning();
  if (pin) pinSelf(pin.client); // this script shares wrk's CPU, never the server's
  const total = o.rounds * o.workloads.length * SERVERS.length;
  console.error(
    `bench: ${total} runs of ${WARMUP_S} s + ${o.duration} s, ${pin ? `server on CPU ${pin.server}, wrk on CPU ${pin.client}` : 'not pinned (no taskset or one CPU)'}`,
  );
  const rounds = [];
  let i = 0;
  for (let r = 0; r < o.rounds; r++) {
    const round = {};
    for (const w of o.workloads) {
      round[w] = {};
      for (const server of SERVERS) {
        const cell = await measure(server, w, o.duration, pin).catch((e) => ({ error: e.message }));
        round[w][server.id] = cell;
        console.error(`[${++i}/${total}] ${w} · ${server.label}: ${cell.error ? `failed: ${cell.error}` : `${Math.round(cell.rps)} req/s`}`);
      }
    }
    rounds.push(round);
    if (o.rounds > 1) console.log(`\nRound ${r + 1}\n\n${resultTable(combine([round], o.workloads), SERVERS)}`);
  }
  const cells = combine(rounds, o.workloads);
  const runTime = Math.round((Date.now() - t0) / 1000);
  console.log(`\n${o.rounds > 1 ? `Median of ${o.rounds} rounds` : 'Results'}\n\n${resultTable(cells, SERVERS)}\n`);

  const failed = Object.values(cells).some((c) => Object.values(c).some((x) => x.error));
  if (failed) {
    console.error('bench: some runs failed (see above); nothing written');
    process.exit(1);
  }
  const meta = {
    date: new Date(t0).toISOString(),
    machine: machine(),
    method: {
      pinned: pin,
      warmup_s: WARMUP_S,
      duration_s: o.duration,
      connections: CONNECTIONS,
      threads: THREADS,
      rounds: o.rounds,
      commands: Object.fromEntries(SERVERS.map((s) => [s.id, onCpu(pin?.server, s.argv('PORT', 'APP')).map(shorten).join(' ')])),
      wrk: onCpu(pin?.client, ['wrk', `-t${THREADS}`, `-c${CONNECTIONS}`, '-dSECONDSs', '--timeout', '2s', '-s', 'bench/wrk/SCRIPT.lua', 'URL']).join(' '),
    },
    run_time_s: runTime,
  };
  if (o.write) {
    const workloads = Object.fromEntries(o.workloads.map((w) => [w, WORKLOADS[w].about]));
    const results = { ...meta, workloads, results: cells, rounds };
    writeFileSync(join(BENCH, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(ROOT, 'docs/bench.svg'), chartSvg(cells, SERVERS, meta));
    writeReadme(readmeSection(cells, SERVERS, meta));
    console.error('bench: wrote bench/results.json, docs/bench.svg and the README section');
  }
  console.error(`bench: took ${Math.floor(runTime / 60)} min ${runTime % 60} s`);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, async () => {
    console.error(`\nbench: ${sig}: stopping the servers and wrk`);
    await stopAll();
    process.exit(130);
  });
}

main().catch(async (e) => {
  console.error(`bench: ${e.message}`);
  await stopAll();
  process.exit(1);
});
