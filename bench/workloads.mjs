// What the modes of `npm run bench` share: the workloads (each one's app in
// bench/apps/{fetch,node,express}/APP.mjs, its wrk script and the request that checks the
// app's answer), the commands of starlight, node:http and Starlet (the Perl server, where
// perl has it), waiting for a
// server to answer rightly, wrk's presence and one wrk run read back from
// bench/wrk/report.lua's BENCH line, a median, and the parsing of number and list flags.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, onCpu, run, sleep } from './proc.mjs';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
export const WARMUP_S = 1;
export const CONNECTIONS = 64;
export const THREADS = 1;

/** A key and a self-signed certificate for 127.0.0.1, made by openssl for this run (TLS workloads). */
let certificate = null;
export function tlsFiles() {
  if (certificate !== null) return certificate;
  const dir = mkdtempSync(join(os.tmpdir(), 'starlight-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const [key, cert] = [join(dir, 'key.pem'), join(dir, 'cert.pem')];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  certificate = { key, cert, pem: readFileSync(cert) };
  return certificate;
}

// The apps (bench/apps/{fetch,node}/APP.mjs) and the request that checks each one's answer.
const ECHO_BODY = 'starlight-bench-'.repeat(256); // 4 KiB, as in wrk/echo.lua
const APPS = {
  plaintext: { path: '/', ok: (res, body) => body === 'Hello, World!' && res.headers.get('content-type').startsWith('text/plain') },
  json: { path: '/json', ok: (res, body) => body === '{"message":"Hello, World!"}' && res.headers.get('content-type').startsWith('application/json') },
  echo: {
    path: '/echo',
    init: { method: 'POST', body: ECHO_BODY, headers: { 'content-type': 'application/octet-stream' } },
    ok: (res, body) => body === ECHO_BODY,
  },
  headers: {
    path: '/headers',
    init: { headers: { 'x-request-id': 'check-42' } },
    ok: (res) => res.headers.get('x-request-id') === 'check-42' && res.headers.getSetCookie().length === 2 && res.headers.has('cache-control'),
  },
};
export const WORKLOADS = {
  plaintext: { app: 'plaintext', script: 'get.lua', about: 'GET / → 200 "Hello, World!" text/plain, keep-alive' },
  json: { app: 'json', script: 'get.lua', about: 'GET /json → {"message":"Hello, World!"}, serialized per request' },
  echo: { app: 'echo', script: 'echo.lua', about: 'POST /echo with 4 KiB application/octet-stream → the same body' },
  headers: { app: 'headers', script: 'headers.lua', about: 'GET /headers with 20 header lines → 5 headers, 2 Set-Cookie, X-Request-Id copied' },
  pipelined: { app: 'plaintext', script: 'pipelined.lua', about: 'plaintext, 16 requests per write' },
  'no-keepalive': { app: 'plaintext', script: 'no-keepalive.lua', about: 'plaintext with Connection: close: a new connection per request' },
  'plaintext-tls': { app: 'plaintext', script: 'get.lua', tls: true, about: 'plaintext over TLS with keep-alive: starlight --ssl, node:https as the baseline, one certificate' },
};

/** Why Starlet cannot run here (perl lacks Starlet or Plack), or null. */
export function starletMissing() {
  if (spawnSync('perl', ['-MStarlet', '-MPlack', '-e1'], { stdio: 'ignore' }).status !== 0) return 'perl -MStarlet -e1 fails (Debian: apt-get install libstarlet-perl)';
  return hasCommand('plackup', '--version') ? null : 'plackup is missing (Debian: apt-get install libplack-perl)';
}

const ROOT = join(BENCH, '..');

/** An app of bench/apps/: `flavour` fetch, node or express, `app` a workload's app (plaintext, json, …). */
export const appFile = (flavour, app) => join(BENCH, 'apps', flavour, `${app}.mjs`);

/** starlight, quiet, on 127.0.0.1:`port` with `workers` workers and extra `flags`, serving `app`; `dir`: the checkout it runs from (this one by default). */
export const starlightArgv = ({ port, workers = 1, flags = [], app, dir = ROOT }) => [
  process.execPath, join(dir, 'bin/starlight.js'), '--host=127.0.0.1', `--port=${port}`, `--workers=${workers}`, '--quiet', ...flags, app,
];

/** node:http (bench/node-http.mjs, one process) serving `app`, or node:https given `tls` (the key and certificate files). */
export const nodeHttpArgv = (port, app, tls = null) => [process.execPath, join(BENCH, 'node-http.mjs'), String(port), app, ...(tls ? [tls.key, tls.cert] : [])];

/** Starlet with `workers` workers serving bench/apps/psgi/APP.psgi (only plaintext is written in Perl). */
export const starletArgv = (port, workers, app) => [
  // Starlet's keep-alive is off unless --max-keepalive-reqs says otherwise.
  'plackup', '-s', 'Starlet', '-E', 'deployment', `--listen=127.0.0.1:${port}`, `--max-workers=${workers}`, '--max-keepalive-reqs=1000000', '--max-reqs-per-child=100000000',
  join(BENCH, 'apps/psgi', `${app}.psgi`),
];

/** fetch() over HTTPS trusting `ca` (the global fetch takes no CA): the status, the headers as a Headers, and text(). */
function fetchTls(url, init, ca) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, headers: new Headers(Object.entries(res.headersDistinct).flatMap(([k, vs]) => vs.map((v) => [k, v]))), text: async () => body }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Waits (up to 10 s) until the server answers, then checks that answer. */
export async function ready(server, port, app, tls) {
  const { path, init, ok } = APPS[app];
  const until = Date.now() + 10_000;
  for (;;) {
    let res;
    try {
      const checked = { ...init, headers: { ...init?.headers, connection: 'close' } };
      res = tls ? await fetchTls(`https://127.0.0.1:${port}${path}`, checked, tls.pem) : await fetch(`http://127.0.0.1:${port}${path}`, checked);
    } catch (e) {
      const exited = await Promise.race([server.done.then((code) => `exited (${code})`), sleep(100)]);
      if (exited || Date.now() > until) throw new Error(`${exited ?? 'no answer within 10 s'}: ${server.output().trim() || e.cause?.message || e.message}`);
      continue;
    }
    const body = await res.text();
    if (res.status !== 200 || !ok(res, body)) throw new Error(`wrong answer: ${res.status} ${JSON.stringify([...res.headers])} ${body.slice(0, 80)}`);
    return;
  }
}

export async function wrk(port, workload, seconds, pin) {
  const scheme = WORKLOADS[workload].tls ? 'https' : 'http';
  const args = [`-t${THREADS}`, `-c${CONNECTIONS}`, `-d${seconds}s`, '--timeout', '2s', '-s', join(BENCH, 'wrk', WORKLOADS[workload].script)];
  const path = APPS[WORKLOADS[workload].app].path;
  const out = await run(onCpu(pin?.client, ['wrk', ...args, `${scheme}://127.0.0.1:${port}${path}`]), (seconds + 30) * 1000);
  const line = /^BENCH (.*)$/m.exec(out);
  if (!line) throw new Error(`wrk gave no result: ${out.trim().slice(-300)}`);
  return JSON.parse(line[1]);
}

/** Throws where wrk, which every mode runs, is missing. */
export function requireWrk() {
  if (!hasCommand('wrk', '-v')) throw new Error('wrk is missing. Install it (Debian/Ubuntu: apt-get install wrk; macOS: brew install wrk) and run again.');
}

/** The median of `values` (null if any is null). */
export const median = (values) => {
  if (values.some((v) => v === null)) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

/** A flag's whole number (>= 1). */
export function wholeNumber(flag, text) {
  const n = Number(text);
  if (text === '' || !Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number >= 1: ${text}`);
  return n;
}

/** A flag's comma-separated whole numbers (each >= 1). */
export function wholeNumbers(flag, text) {
  const list = text.split(',').filter(Boolean);
  if (!list.length) throw new Error(`${flag} must be whole numbers >= 1, comma-separated: ${text}`);
  return list.map((item) => wholeNumber(flag, item));
}

/** A flag's comma-separated names, each a key of `known`. */
export function oneOf(flag, text, known) {
  const list = text.split(',').filter(Boolean);
  const unknown = list.filter((x) => !(x in known));
  if (unknown.length || !list.length) throw new Error(`${flag}: unknown ${unknown.join(', ') || '(none given)'} (known: ${Object.keys(known).join(', ')})`);
  return list;
}
