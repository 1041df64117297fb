// `npm run bench -- --scaling`: how req/s grows with the number of worker processes, for
// starlight, node:cluster (bench/node-cluster.mjs) and Starlet (plackup -s Starlet, where
// perl has it), on plaintext and no-keepalive. wrk runs pinned to the first CPUs, the
// server alone on the others; for each worker count, each server is started, waited for
// (an answer, and all its workers), warmed up 1 s and measured; the CPU time its parent
// process and its workers used in the measured seconds gives the CPU µs per request of each
// group. Writes the Markdown report, its SVG chart (bench/scaling-report.mjs) and the rows as
// JSON to --out (FILE.md, FILE.svg, FILE.json).
// `node bench/run.mjs --scaling --help` for the flags.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { childrenOf, cpuMs, freePort, hasCommand, onCpu, pinSelf, run, sleep, start, stop } from './proc.mjs';
import { scalingReport, scalingSvg } from './scaling-report.mjs';
import { appFile, oneOf, requireWrk, starletArgv, starletMissing, starlightArgv, wholeNumber, wholeNumbers } from './workloads.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BENCH = join(ROOT, 'bench');
const WARMUP_S = 1;
const PROJECT_CORES = 16;

const SERVERS = {
  starlight: {
    label: 'starlight',
    argv: (port, n) => starlightArgv({ port, workers: n, app: appFile('fetch', 'plaintext') }),
  },
  'node-cluster': {
    label: 'node:cluster',
    argv: (port, n) => [process.execPath, join(BENCH, 'node-cluster.mjs'), String(port), appFile('node', 'plaintext'), String(n)],
  },
  starlet: {
    label: 'Starlet',
    unavailable: starletMissing,
    argv: (port, n) => starletArgv(port, n, 'plaintext'),
  },
};
const WORKLOADS = {
  plaintext: { script: 'get.lua', about: 'GET / → "Hello, World!", keep-alive' },
  'no-keepalive': { script: 'no-keepalive.lua', about: 'the same with Connection: close: a new connection per request' },
};

function defaultClientCpus(cores) {
  return Math.max(1, Math.floor(cores / 4));
}

const HELP = `Usage: npm run bench -- --scaling [options]   (or: node bench/run.mjs --scaling [options] after npm run build)

  --workers LIST      worker counts (default 1,2,4,… up to the CPUs left to the servers)
  --duration S        measured seconds per row, after ${WARMUP_S} s of warm-up (default 5)
  --workloads A,B     ${Object.keys(WORKLOADS).join(', ')} (default: both)
  --servers A,B       ${Object.keys(SERVERS).join(', ')} (default: all; Starlet only where perl has it)
  --client-cpus N     CPUs for wrk, the first N (default a quarter of the CPUs, at least 1)
  --connections N     wrk's connections (default 64)
  --out FILE          the Markdown report; the chart goes beside it as .svg (default bench/scaling/scaling.md)
  -h, --help

Workloads:
${Object.entries(WORKLOADS).map(([k, w]) => `  ${k.padEnd(13)} ${w.about}`).join('\n')}`;

function options(argv) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--scaling'),
    options: {
      workers: { type: 'string' },
      duration: { type: 'string', default: '5' },
      workloads: { type: 'string', default: Object.keys(WORKLOADS).join(',') },
      servers: { type: 'string', default: Object.keys(SERVERS).join(',') },
      'client-cpus': { type: 'string' },
      connections: { type: 'string', default: '64' },
      out: { type: 'string', default: join(BENCH, 'scaling', 'scaling.md') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const cores = os.cpus().length;
  const clients = values['client-cpus'] === undefined ? defaultClientCpus(cores) : wholeNumber('--client-cpus', values['client-cpus']);
  if (cores < 2 || !hasCommand('taskset', '-V')) throw new Error('--scaling needs taskset and at least 2 CPUs (wrk and the servers on CPUs of their own)');
  if (clients >= cores) throw new Error(`--client-cpus=${clients} leaves no CPU to the servers (${cores} CPUs)`);
  const cpus = [...Array(cores).keys()];
  const serverCpus = cpus.slice(clients);
  const powers = [];
  for (let n = 1; n <= serverCpus.length; n *= 2) powers.push(n);
  if (powers.at(-1) !== serverCpus.length) powers.push(serverCpus.length);
  const duration = wholeNumber('--duration', values.duration);
  const connections = wholeNumber('--connections', values.connections);
  return {
    workers: values.workers === undefined ? powers : wholeNumbers('--workers', values.workers),
    duration,
    connections,
    workloads: oneOf('--workloads', values.workloads, WORKLOADS),
    servers: oneOf('--servers', values.servers, SERVERS),
    clientCpus: cpus.slice(0, clients),
    serverCpus,
    out: resolve(values.out),
  };
}

/** Waits (up to 15 s) until the server answers right and has its `workers` children. */
async function ready(proc, port, workers) {
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: 'close' } });
      const body = await res.text();
      if (res.status !== 200 || body !== 'Hello, World!') throw new Error(`wrong answer: ${res.status} ${body.slice(0, 80)}`);
      if (childrenOf(proc.pid).length >= workers) return;
    } catch (e) {
      if (e.message.startsWith('wrong answer')) throw e;
    }
    const exited = await Promise.race([proc.done.then((code) => `exited (${code})`), sleep(100)]);
    if (exited || Date.now() > until) throw new Error(`${exited ?? `not ready within 15 s (${childrenOf(proc.pid).length} of ${workers} workers)`}: ${proc.output().trim().slice(-300)}`);
  }
}

async function wrk(o, port, workload, seconds) {
  const argv = ['wrk', `-t${o.clientCpus.length}`, `-c${o.connections}`, `-d${seconds}s`, '--timeout', '2s', '-s', join(BENCH, 'wrk', WORKLOADS[workload].script), `http://127.0.0.1:${port}/`];
  const out = await run(onCpu(o.clientCpus.join(','), argv), (seconds + 30) * 1000);
  const line = /^BENCH (.*)$/m.exec(out);
  if (!line) throw new Error(`wrk gave no result: ${out.trim().slice(-300)}`);
  return JSON.parse(line[1]);
}

/** One row: a server with `workers` workers on one workload. */
async function measure(o, id, workload, workers) {
  const port = await freePort();
  const proc = start(onCpu(o.serverCpus.join(','), SERVERS[id].argv(port, workers)));
  try {
    await ready(proc, port, workers);
    await wrk(o, port, workload, WARMUP_S);
    const children = childrenOf(proc.pid);
    const before = { master: cpuMs(proc.pid), workers: children.map(cpuMs) };
    const r = await wrk(o, port, workload, o.duration);
    const masterMs = cpuMs(proc.pid) - before.master;
    const workersMs = children.reduce((sum, pid, i) => sum + cpuMs(pid) - before.workers[i], 0);
    const perRequest = (ms) => (r.requests > 0 ? (ms * 1000) / r.requests : null);
    return { rps: r.requests / (r.duration_us / 1e6), errors: r.errors, master_us: perRequest(masterMs), workers_us: perRequest(workersMs) };
  } finally {
    await stop(proc.pid);
  }
}

export async function scaling(argv) {
  const o = options(argv);
  requireWrk();
  pinSelf(o.clientCpus.join(',')); // this script shares wrk's CPUs, never the servers'
  const skipped = [];
  const servers = o.servers.filter((id) => {
    const why = SERVERS[id].unavailable?.() ?? null;
    if (why !== null) skipped.push({ label: SERVERS[id].label, why });
    return why === null;
  });
  for (const s of skipped) console.error(`bench: ${s.label} skipped: ${s.why}`);
  const total = o.workloads.length * servers.length * o.workers.length;
  const over = o.workers.filter((n) => n > o.serverCpus.length);
  console.error(
    `bench --scaling: ${total} runs of ${WARMUP_S} s + ${o.duration} s; wrk on CPU ${o.clientCpus.join(',')}, servers on CPU ${o.serverCpus.join(',')}` +
      (over.length ? ` (${over.join(', ')} workers share ${o.serverCpus.length} CPU${o.serverCpus.length > 1 ? 's' : ''})` : ''),
  );
  const t0 = Date.now();
  const rows = [];
  for (const workload of o.workloads) {
    for (const id of servers) {
      for (const workers of o.workers) {
        const figures = await measure(o, id, workload, workers).catch((e) => ({ error: e.message }));
        rows.push({ workload, server: id, label: SERVERS[id].label, workers, ...figures });
        console.error(`[${rows.length}/${total}] ${workload} · ${SERVERS[id].label} · ${workers}: ${figures.error ? `failed: ${figures.error}` : `${Math.round(figures.rps)} req/s`}`);
      }
    }
  }
  const meta = {
    date: new Date(t0).toISOString(),
    cpu: /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown CPU',
    cores: os.cpus().length,
    node: process.version,
    clientCpus: o.clientCpus,
    serverCpus: o.serverCpus,
    workers: o.workers,
    connections: o.connections,
    warmup_s: WARMUP_S,
    duration_s: o.duration,
    projectCores: PROJECT_CORES,
    skipped,
  };
  const svg = o.out.replace(/\.md$/, '') + '.svg';
  const report = scalingReport(rows, meta, basename(svg));
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, report);
  writeFileSync(svg, scalingSvg(rows, meta));
  writeFileSync(o.out.replace(/\.md$/, '') + '.json', JSON.stringify({ ...meta, rows }, null, 2) + '\n');
  console.log(`\n${report}`);
  console.error(`bench --scaling: wrote ${o.out} and ${svg}; took ${Math.round((Date.now() - t0) / 1000)} s`);
  return rows.some((r) => r.error) ? 1 : 0;
}
