// Exhaustion: starlight where a resource runs out, each on a fresh server of
// one worker on 127.0.0.1 (the worker's figures are the ones held):
//
//   file descriptors  the server under `ulimit -n 256`, --clients connect at
//                     once: no crash, no busy loop while the limit holds (CPU
//                     of the master and worker over 3 s), service resumes
//                     once the clients leave
//   idle connections  --idle keep-alive connections held open: the worker's
//                     resident memory per connection
//   slowloris         --slow connections trickling head or body bytes for
//                     --seconds: a normal client is answered meanwhile
//   never reading     a client asks for --stream-mib MiB and never reads: the
//                     worker's memory stays bounded, others are answered
//   large body        a --body bytes request body streamed to an app that
//                     counts it: the worker's memory stays bounded
//
//   npm run exhaust -- [--clients=1000] [--idle=10000] [--slow=1000] [--seconds=10]
//                      [--stream-mib=100] [--body=2g] [--only=fd,idle,slowloris,reader,body]
//
// The client side needs about --idle + 1,000 descriptors: run with a lower
// limit, the script starts itself again under `ulimit -n 65536` (as root, or
// where the hard limit allows).

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { RawConnection, httpRequest } from '../test/helpers/raw.mjs';
import { livePids } from '../test/helpers/proc.mjs';
import { get } from '../test/helpers/process.mjs';
import { sleep, waitFor } from '../test/helpers/wait.mjs';
import { MiB, cpuSeconds, kib, machine, mib, ms, openFileLimit, option, rssBytes, run, serve, serverPids, watchRss } from './common.mjs';
import { Summary, countArgument } from './summary.mjs';

const APP = fileURLToPath(new URL('./apps/exhaust-app.mjs', import.meta.url));
const argv = process.argv.slice(2);
const count = (name, fallback) => countArgument(option(argv, name), fallback);
const CLIENTS = count('clients', 1000);
const IDLE = count('idle', 10000);
const SLOW = count('slow', 1000);
const SECONDS = count('seconds', 10);
const STREAM_MIB = count('stream-mib', 100);
const BODY = sizeArgument(option(argv, 'body') ?? '2g');
const ONLY = new Set((option(argv, 'only') ?? 'fd,idle,slowloris,reader,body').split(','));

/** The promises held (stated once, in the table). */
const FD_LIMIT = 256;
const EMFILE_CPU = 0.25; // of one core, master and worker together
const PER_CONNECTION = 24 * 1024;
const PROBE_MS = 200;
const READER_RSS = 32 * MiB;
const BODY_RSS = 96 * MiB; // V8 lets its heap grow a while before it collects: 256 MiB gave +37 MiB, 2 GiB +56 MiB

/** 2g, 512m, 64k or a number of bytes. */
function sizeArgument(text) {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
  if (match === null) throw new Error(`not a size: ${text} (e.g. 2g, 512m, 1048576)`);
  return Math.round(Number(match[1]) * { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[match[2].toLowerCase()]);
}

const needed = (ONLY.has('idle') ? IDLE : 0) + CLIENTS + SLOW + 1000;
if (openFileLimit() < needed && process.env.STARLIGHT_EXHAUST_REEXEC === undefined) {
  // Raise our own limit: only a shell can (Node has no setrlimit).
  const child = spawn('bash', ['-c', `ulimit -n ${Math.max(65536, needed)} && exec "$0" "$@"`, process.execPath, ...process.execArgv, fileURLToPath(import.meta.url), ...argv], {
    stdio: 'inherit',
    env: { ...process.env, STARLIGHT_EXHAUST_REEXEC: '1' },
  });
  process.on('SIGINT', () => {}); // the child, in our process group, gets it too and cleans up
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
} else {
  const summary = new Summary(`exhaust: ${CLIENTS} clients under ulimit -n ${FD_LIMIT}, ${IDLE} idle connections, ${SLOW} slowloris for ${SECONDS} s, a ${STREAM_MIB} MiB response never read, a ${mib(BODY)} body (${machine()})`);
  run(summary, async () => {
    if (ONLY.has('fd')) await descriptors(summary);
    if (ONLY.has('idle')) await idleConnections(summary);
    if (ONLY.has('slowloris')) await slowloris(summary);
    if (ONLY.has('reader')) await neverReading(summary);
    if (ONLY.has('body')) await largeBody(summary);
  });
}

/** One worker serving the exhaust app; resolves { server, worker }. */
async function oneWorker(args = [], opts = {}) {
  const server = await serve(['--workers=1', '--quiet=0', ...args, APP], opts);
  const worker = await waitFor(() => livePids(server.pid)[0], { timeoutMs: 10000, message: 'the worker' });
  // A first request, so that what is measured later is not the app's first load.
  await get(server.port);
  return { server, worker };
}

/** Opens a keep-alive connection and sends GET /; resolves the socket and a promise of its first response bytes. */
function keepAliveClient(port, { timeoutMs = 10000 } = {}) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const answered = new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('data', (data) => {
      clearTimeout(timer);
      resolve(data.latin1Slice(0, 12) === 'HTTP/1.1 200');
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  socket.on('error', () => {});
  socket.on('connect', () => socket.write(httpRequest('GET', '/', { headers: { Host: '127.0.0.1' } })));
  return { socket, answered };
}

/** Latency of one GET / on a new connection, in ms (Infinity when it failed). */
async function probe(port) {
  const started = performance.now();
  try {
    const response = await get(port, '/', 5000);
    return response.status === 200 ? performance.now() - started : Infinity;
  } catch {
    return Infinity;
  }
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Infinity;
};

/** Whether the master and the worker are the same processes as at the start. */
function sameProcesses(server, worker) {
  const pids = livePids(server.pid);
  return server.exit === null && pids.length === 1 && pids[0] === worker;
}

/** The summary's row for whether the worker outlived a scenario (`label`): the same master and worker, still running. */
function addSurvives(summary, label, server, worker) {
  const same = sameProcesses(server, worker);
  summary.add(`${label}: worker survives`, same ? 'same pids' : 'replaced', 'same pids', same);
}

async function descriptors(summary) {
  const { server, worker } = await oneWorker([], { launcher: ['bash', '-c', `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`] });
  const clients = Array.from({ length: CLIENTS }, () => keepAliveClient(server.port, { timeoutMs: 5000 }));
  try {
    // Let the connections arrive (those the backlog cannot hold retry their SYN).
    await Promise.race([Promise.all(clients.map((c) => c.answered)), sleep(5000)]);
    const pids = serverPids(server);
    const before = pids.map(cpuSeconds);
    const started = performance.now();
    await sleep(3000);
    const shares = pids.map((pid, i) => (cpuSeconds(pid) - before[i]) / ((performance.now() - started) / 1000));
    const cpu = shares.reduce((sum, share) => sum + share, 0);
    const descriptorsHeld = pids.map((pid) => readdirSync(`/proc/${pid}/fd`).length);
    const answered = (await Promise.all(clients.map((c) => c.answered))).filter(Boolean).length;
    const open = clients.filter((c) => !c.socket.destroyed && c.socket.readyState === 'open').length;
    summary.add(`fd: clients answered / open under ulimit -n ${FD_LIMIT}`, `${answered} / ${open} of ${CLIENTS}`, 'fewer than all answered (the limit holds)', answered < CLIENTS);
    summary.add('fd: descriptors open in the master, the worker', descriptorsHeld.join(', '), `the worker at ${FD_LIMIT}, give or take Node's own`, descriptorsHeld[1] >= FD_LIMIT - 16);
    summary.add('fd: CPU of the master + the worker over 3 s out of descriptors', `${shares.map((share) => (share * 100).toFixed(1)).join(' + ')}% of a core`, `≤ ${EMFILE_CPU * 100}% (no busy loop)`, cpu <= EMFILE_CPU);
    const survived = sameProcesses(server, worker);
    summary.add('fd: master and worker survive', survived ? 'same pids' : `master ${server.exit ? 'exited' : 'alive'}, workers ${livePids(server.pid).join(',')}`, 'same pids', survived);
  } finally {
    for (const c of clients) c.socket.destroy();
  }
  const left = performance.now();
  const resumed = await waitFor(async () => (await probe(server.port)) < Infinity, { timeoutMs: 15000, intervalMs: 100, message: 'service after the clients left' }).catch(() => false);
  summary.add('fd: service resumes once the clients leave', resumed ? ms(performance.now() - left) : 'no answer in 15 s', 'answered within 15 s', resumed);
  await server.stop();
}

async function idleConnections(summary) {
  const { server, worker } = await oneWorker(['--keepalive-timeout=3600', '--timeout=3600']);
  const sockets = [];
  try {
    // A few connections first, so that what grows afterwards is per connection.
    for (let i = 0; i < 50; i++) sockets.push(keepAliveClient(server.port));
    await Promise.all(sockets.map((c) => c.answered));
    await sleep(1000);
    const before = rssBytes(worker);
    const masterBefore = rssBytes(server.pid);
    let failed = 0;
    for (let opened = 0; opened < IDLE; opened += 500) {
      const batch = Array.from({ length: Math.min(500, IDLE - opened) }, () => keepAliveClient(server.port));
      sockets.push(...batch);
      failed += (await Promise.all(batch.map((c) => c.answered))).filter((ok) => !ok).length;
    }
    await sleep(2000);
    const after = rssBytes(worker);
    const open = sockets.filter((c) => !c.socket.destroyed && c.socket.readyState === 'open').length;
    const perConnection = (after - before) / IDLE;
    summary.add(`idle: keep-alive connections answered and held open`, `${IDLE - failed} answered, ${open - 50} open of ${IDLE}`, 'all', failed === 0 && open === IDLE + 50);
    summary.add('idle: worker memory per idle connection', `${kib(perConnection)} (RSS ${mib(before)} → ${mib(after)}; master ${mib(masterBefore)} → ${mib(rssBytes(server.pid))})`, `≤ ${kib(PER_CONNECTION)}`, perConnection <= PER_CONNECTION);
    const latency = await probe(server.port);
    summary.add('idle: a new client meanwhile', Number.isFinite(latency) ? ms(latency) : 'failed', 'answered', Number.isFinite(latency));
    addSurvives(summary, 'idle', server, worker);
  } finally {
    for (const c of sockets) c.socket.destroy();
  }
  await server.stop();
}

/** Latencies of GET / on new connections, one every 50 ms for `seconds`. */
async function probes(port, seconds) {
  const latencies = [];
  for (const end = Date.now() + seconds * 1000; Date.now() < end; ) {
    latencies.push(await probe(port));
    await sleep(50);
  }
  return latencies;
}

const spread = (latencies) => `${latencies.length} requests, p50 ${ms(percentile(latencies, 50))}, p95 ${ms(percentile(latencies, 95))}, max ${ms(Math.max(...latencies))}`;

async function slowloris(summary) {
  const { server, worker } = await oneWorker();
  // The same requests first without the slow connections: what this (shared) machine gives.
  const control = await probes(server.port, Math.min(SECONDS, 5));
  const sockets = [];
  const heads = Math.ceil(SLOW / 2);
  for (let i = 0; i < SLOW; i++) {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    socket.on('error', () => {});
    // Half send a head a byte at a time, half a head and then the body a byte at a time.
    socket.write(i < heads ? 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' : 'POST /count HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n');
    sockets.push(socket);
  }
  // All connected before the measure: 1,000 connections at once overflow the listen backlog,
  // and a SYN dropped there costs a normal client a second (TCP's first retransmission).
  await Promise.race([Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('connect', resolve).once('error', resolve)))), sleep(10000)]);
  await sleep(500);
  try {
    const end = Date.now() + SECONDS * 1000;
    let trickled = 0;
    const trickle = (async () => {
      // Every socket gets a byte a second, spread over the second.
      for (let i = 0; Date.now() < end; i = (i + 1) % sockets.length) {
        if (!sockets[i].destroyed) sockets[i].write('a');
        trickled++;
        if (i % Math.max(1, Math.ceil(sockets.length / 100)) === 0) await sleep(10);
      }
    })();
    const latencies = await probes(server.port, SECONDS);
    await trickle;
    const held = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    const p95 = percentile(latencies, 95);
    summary.add('slowloris: normal requests before, as a control', spread(control), 'reported (the machine is shared)', true);
    summary.add(`slowloris: normal requests during ${SECONDS} s of ${SLOW} trickling connections`, spread(latencies), `p95 < ${PROBE_MS} ms, none failed`, p95 < PROBE_MS && latencies.every(Number.isFinite));
    summary.add('slowloris: trickling connections still open (below --header-timeout)', `${held} of ${SLOW}, ${trickled} bytes trickled`, 'reported', true);
    addSurvives(summary, 'slowloris', server, worker);
  } finally {
    for (const s of sockets) s.destroy();
  }
  await server.stop();
}

async function neverReading(summary) {
  const { server, worker } = await oneWorker();
  await sleep(500);
  const before = rssBytes(worker);
  const rss = watchRss(worker);
  const reader = await RawConnection.connect(server.port);
  try {
    reader.discardData();
    reader.write(httpRequest('GET', `/stream?mib=${STREAM_MIB}`));
    await reader.until((c) => c.length > 0, 5000);
    reader.pause();
    const latencies = await probes(server.port, 3);
    const peak = rss.stop();
    const received = reader.length;
    summary.add(`reader: worker RSS while a ${STREAM_MIB} MiB response is not read`, `+${mib(peak - before)} (the client read ${kib(received)} before it stopped)`, `< +${mib(READER_RSS)}`, peak - before < READER_RSS && received < STREAM_MIB * MiB);
    summary.add('reader: other clients meanwhile', spread(latencies), `p95 < ${PROBE_MS} ms, none failed`, percentile(latencies, 95) < PROBE_MS && latencies.every(Number.isFinite));
  } finally {
    rss.stop();
    reader.destroy();
  }
  addSurvives(summary, 'reader', server, worker);
  await server.stop();
}

async function largeBody(summary) {
  const { server, worker } = await oneWorker();
  await sleep(500);
  const before = rssBytes(worker);
  const rss = watchRss(worker);
  const connection = await RawConnection.connect(server.port);
  const started = performance.now();
  try {
    connection.write(httpRequest('POST', '/count', { headers: { 'Content-Length': String(BODY) } }));
    const block = Buffer.alloc(MiB, 0x62);
    for (let sent = 0; sent < BODY && connection.closed === null; ) {
      const piece = block.subarray(0, Math.min(block.length, BODY - sent));
      sent += piece.length;
      if (!connection.socket.write(piece)) await new Promise((resolve) => connection.socket.once('drain', resolve));
    }
    const { responses } = await connection.responses(1, {}, 60000);
    const seconds = (performance.now() - started) / 1000;
    const peak = rss.stop();
    const counted = responses[0]?.text;
    summary.add(`body: ${mib(BODY)} streamed to an app that counts it`, `app counted ${counted ?? 'nothing'} bytes, ${(BODY / MiB / seconds).toFixed(0)} MiB/s`, `${BODY}`, counted === String(BODY));
    summary.add('body: worker RSS meanwhile', `+${mib(peak - before)}`, `< +${mib(BODY_RSS)}`, peak - before < BODY_RSS);
  } finally {
    rss.stop();
    connection.destroy();
  }
  await server.stop();
}
