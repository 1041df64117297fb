// What a master and its workers load: the master no TLS, HTTP engine or perf_hooks; a
// worker node:tls and node:crypto only with --ssl, node:http only for a Node app. Each
// process lists the built-ins it loaded as it exits (test/fixtures/loaded-builtins.mjs).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server.mjs';
import { makeCertificates, opensslMissing } from '../tls/certs.mjs';

const PROBE = fileURLToPath(new URL('../fixtures/loaded-builtins.mjs', import.meta.url));
const FETCH_APP = fileURLToPath(new URL('../fixtures/tls-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('../fixtures/tls-node-app.mjs', import.meta.url));
const TLS_ONLY = ['tls', 'crypto', '_tls_wrap'];
const RUNTIME_FETCH = 'internal/deps/undici/undici';

let dir;
let certs;
before(() => {
  dir = mkdtempSync(join(os.tmpdir(), 'starlight-lazy-'));
  if (!opensslMissing()) certs = makeCertificates();
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
  certs?.remove();
});

/** Serves `app` with `args` and 1 worker, answers one request, stops; the built-ins of the master and of the worker. */
async function loaded(name, app, args = []) {
  const file = join(dir, name);
  const server = await startServer(['--workers=1', ...args, app], { env: { NODE_OPTIONS: `--import=${PROBE}`, STARLIGHT_TEST_LOADED: file } });
  try {
    const scheme = args.includes('--ssl') ? 'https' : 'http';
    // Any answer will do (a TLS one is not checked): the worker has served a request.
    await fetch(`${scheme}://127.0.0.1:${server.port}/`).catch(() => {});
  } finally {
    await server.stop();
  }
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => line.split('\t'));
  const of = (title) => new Set(lines.find(([t]) => t.startsWith(title))?.[1].split(','));
  return { master: of('starlight master'), worker: of('starlight worker') };
}

const has = (set, names) => names.filter((name) => set.has(name));

test('a Fetch app without --ssl: neither process loads TLS, the HTTP engine of Node or perf_hooks', async () => {
  const { master, worker } = await loaded('fetch', FETCH_APP);
  assert.ok(master.size > 0 && worker.size > 0, 'both processes reported');
  assert.deepEqual(has(master, [...TLS_ONLY, 'http', 'perf_hooks']), []);
  // Where the runtime's fetch loads as a Fetch app's worker starts (Node 24: fetch/light/platform.ts),
  // it brings node:tls and node:http along: those are Node's, not starlight's.
  if (worker.has(RUNTIME_FETCH)) return;
  assert.deepEqual(has(worker, [...TLS_ONLY, 'http']), []);
});

test('a Node app: its worker loads node:http, its master still not', async () => {
  const { master, worker } = await loaded('node', NODE_APP);
  assert.deepEqual(has(worker, ['http']), ['http']);
  assert.deepEqual(has(master, ['http']), []);
});

test('--ssl: master and worker load node:tls', { skip: opensslMissing() ?? false }, async () => {
  const ssl = ['--ssl', `--ssl-key-file=${certs.file('server.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`];
  const { master, worker } = await loaded('ssl', FETCH_APP, ssl);
  assert.deepEqual(has(master, ['tls']), ['tls'], 'the master checks the key and certificate');
  assert.deepEqual(has(worker, ['tls']), ['tls']);
});
