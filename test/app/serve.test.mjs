// serve() from code: in one process and as the master of workers that run the
// same script again; its ready promise (awaitable and callable), onListen
// callback, close(), signals, and the option checks of the command line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serve } from '../../dist/index.js';
import { waitFor } from '../helpers/wait.mjs';

const SCRIPT = fileURLToPath(new URL('../fixtures/serve-script.mjs', import.meta.url));

/** Runs the fixture script; resolves with its URL once it printed READY. */
function runScript(env) {
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no READY; stdout: ${out}; stderr: ${err}`)), 10_000);
    child.stdout.on('data', () => {
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  return { child, exited, ready, output: () => out, errors: () => err };
}

/** Stops the script's process (a master stops its workers on TERM; KILL if it lingers). */
async function stop(run) {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
  await run.exited;
  clearTimeout(timer);
}

test('serve() in one process: ready, onListen, requests, close()', async () => {
  const run = runScript({ SERVE_WORKERS: '0', SERVE_CLOSE_AFTER: '300' });
  try {
    const url = await run.ready;
    assert.match(run.output(), /LISTENING http:\/\/127\.0\.0\.1:\d+\//);
    const text = await (await fetch(`${url}hello`)).text();
    assert.match(text, /^\/hello pid=\d+ worker=0$/);
    assert.equal(Number(/pid=(\d+)/.exec(text)[1]), run.child.pid);
    // close() stops serving; with nothing else to do, the script ends by itself.
    assert.deepEqual(await run.exited, { code: 0, signal: null });
    assert.match(run.output(), /CLOSED/);
  } finally {
    await stop(run);
  }
});

test('serve() with workers: the script is the master and runs again in each worker', async () => {
  const run = runScript({ SERVE_WORKERS: '2' });
  try {
    const url = await run.ready;
    // Ready once a worker serves; the second may still be starting: ask until both have answered.
    const answers = [];
    await waitFor(
      async () => {
        answers.push(...(await Promise.all(Array.from({ length: 4 }, () => fetch(url, { headers: { connection: 'close' } }).then((r) => r.text())))));
        return new Set(answers.map((text) => /worker=(\d+)/.exec(text)[1])).size >= 2;
      },
      { timeoutMs: 10_000, intervalMs: 0, message: () => `two workers answering: ${answers.join(' | ')}` },
    );
    const pids = new Set(answers.map((text) => Number(/pid=(\d+)/.exec(text)[1])));
    assert.equal(pids.size, 2, `two workers answer: ${answers.join(' | ')}`);
    assert.ok(!pids.has(run.child.pid), 'the master does not serve');
    assert.deepEqual(new Set(answers.map((text) => /worker=(\d+)/.exec(text)[1])), new Set(['1', '2']));
    // TERM stops the master and its workers, as it does for the command.
    run.child.kill('SIGTERM');
    assert.deepEqual(await run.exited, { code: 0, signal: null });
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/);
  } finally {
    await stop(run);
  }
});

test('serve() takes the sockets handed down by a process manager, as the command does, and removes their variable', async () => {
  process.env.SERVER_STARTER_PORT = '127.0.0.1:5000=200';
  try {
    const server = serve({ fetch: () => new Response(''), workers: 0, host: '127.0.0.1', port: 0, quiet: true });
    assert.equal(process.env.SERVER_STARTER_PORT, undefined);
    await assert.rejects(server.ready, /cannot listen on fd:\/\/200: it is not an open socket/);
  } finally {
    delete process.env.SERVER_STARTER_PORT;
  }
});

test('serve() checks its options as the command line does', () => {
  assert.throws(() => serve({ fetch: () => new Response(''), workrs: 2 }), /unknown serve\(\) option workrs \(did you mean workers\?\)/);
  assert.throws(() => serve({ fetch: () => new Response(''), port: 'eighty' }), /port: expected an integer from 0 to 65535/);
  assert.throws(() => serve({}), /needs a fetch/);
});

test('serve() with reload and no workers is refused, as the command refuses it', async () => {
  const server = serve({ fetch: () => new Response(''), workers: 0, reload: true, host: '127.0.0.1', port: 0, quiet: true });
  await assert.rejects(server.ready, /--reload needs workers/);
});
