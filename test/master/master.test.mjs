// The master loop and its pool driven through a fake spawner (no worker
// process is started; the listeners are real sockets on 127.0.0.1): a crash
// loop is backed off, a worker killed after it served is replaced at once, a
// retiring worker's replacement is spawned and it is told to stop in the same
// pass, the banner waits for every initial worker, each worker is handed the
// master's listening sockets to accept on itself (the master never accepts),
// and the workers' open connections are passed on to all (fair-share.ts).
// Also the stop policy that the master, the worker and --workers=0 share.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { parseCommandLine } from '../../dist/cli/parse.js';
import { Master } from '../../dist/master/master.js';
import { StopState } from '../../dist/worker/stop-policy.js';
import { waitFor } from '../helpers/process.mjs';
import { freePort } from '../helpers/ports.mjs';

let nextPid = 900000;

/** A worker process as the master sees it, driven by the test. */
class FakeChild extends EventEmitter {
  constructor() {
    super();
    this.pid = nextPid++;
    this.connected = true;
    this.sent = [];
    this.signals = [];
  }
  send(message, handle, _options, done) {
    this.sent.push({ message, handle });
    setImmediate(() => done(null));
    return true;
  }
  kill(signal) {
    this.signals.push(signal);
    // A stop by signal ends it.
    setImmediate(() => this.die(null, signal));
    return true;
  }
  say(message) {
    this.emit('message', message);
  }
  /** Loads the app and, once told to serve, serves. */
  async boot() {
    this.say({ type: 'hello' });
    this.say({ type: 'booted', port: undefined, hostname: undefined });
    await waitFor(() => this.got('serve'), { message: `worker ${this.pid} told to serve` });
    this.say({ type: 'ready' });
  }
  got(type) {
    return this.sent.filter((sent) => sent.message.type === type);
  }
  die(code, signal) {
    if (!this.connected) return;
    this.connected = false;
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

/** A master over fake workers; `children` lists every one spawned, with when. */
function fakeMaster(args) {
  const children = [];
  const commandLine = parseCommandLine(['--host=127.0.0.1', '--port=0', '--quiet', '--main-process-delay=0.02', ...args, 'app.mjs'], {});
  let listening = null;
  const master = new Master(
    commandLine,
    '/nonexistent/app.mjs',
    { module: 'unused', args: [], execArgv: [] },
    (listeners) => (listening = listeners),
    () => {
      const child = new FakeChild();
      children.push({ child, at: Date.now() });
      return child;
    },
  );
  const run = master.run();
  return {
    master,
    children,
    run,
    get listening() {
      return listening;
    },
    async stop() {
      master.requestStop(false);
      return run;
    },
  };
}

test('a worker that dies young (before it served) pauses the next start, growing; one killed after it served is replaced at once', { timeout: 20000 }, async () => {
  const server = fakeMaster(['--workers=1']);
  try {
    await waitFor(() => server.children.length === 1);
    await server.children[0].child.boot();
    await waitFor(() => server.listening !== null, { message: 'serving' });
    // Killed after serving: replaced in the same pass.
    server.children[0].child.say({ type: 'served' });
    const killedAt = Date.now();
    server.children[0].child.die(null, 'SIGKILL');
    await waitFor(() => server.children.length === 2, { message: 'a replacement' });
    assert.ok(server.children[1].at - killedAt < 100, `replaced after ${server.children[1].at - killedAt} ms`);
    // The replacement and the next ones die right after they are ready, having served nothing.
    for (let i = 1; i <= 3; i++) {
      await waitFor(() => server.children.length > i, { timeoutMs: 5000, message: `worker ${i + 1}` });
      const { child } = server.children[i];
      await child.boot();
      child.die(1, null);
    }
    await waitFor(() => server.children.length === 5, { timeoutMs: 5000, message: 'worker 5' });
    const gaps = server.children.slice(2).map((entry, i) => entry.at - server.children[i + 1].at);
    // 100, 200, 400 ms pauses (plus the time to boot a fake).
    assert.ok(gaps[0] >= 90 && gaps[1] >= 190 && gaps[2] >= 390, `gaps ${gaps}`);
    // One that serves ends the loop: its death is replaced at once.
    const { child } = server.children[4];
    await child.boot();
    child.say({ type: 'served' });
    const diedAt = Date.now();
    child.die(null, 'SIGKILL');
    await waitFor(() => server.children.length === 6, { message: 'worker 6' });
    assert.ok(server.children[5].at - diedAt < 100, `replaced after ${server.children[5].at - diedAt} ms`);
  } finally {
    await server.stop();
  }
});

test('a retiring worker: its replacement is spawned and it is told to stop in the same pass', { timeout: 20000 }, async () => {
  const server = fakeMaster(['--workers=2']);
  try {
    await waitFor(() => server.children.length === 2);
    await Promise.all(server.children.map(({ child }) => child.boot()));
    await waitFor(() => server.listening !== null, { message: 'serving' });
    const { child } = server.children[0];
    child.say({ type: 'served' });
    child.say({ type: 'retire', reason: 'it received its 5 requests' });
    await waitFor(() => server.children.length === 3, { message: 'a replacement' });
    const stop = child.got('stop');
    assert.equal(stop.length, 1, 'the retiring worker was told to stop without waiting for its replacement');
    assert.deepEqual({ ...stop[0].message, graceMs: 0 }, { type: 'stop', graceful: true, closeIdle: false, graceMs: 0 });
    assert.equal(server.children[2].child.got('serve').length, 0, 'the replacement is not ready yet');
  } finally {
    await server.stop();
  }
});

test('the banner waits for every initial worker; each is handed the shared listeners once and the master accepts nothing itself; the loads are passed on', { timeout: 20000 }, async () => {
  const port = await freePort();
  const server = fakeMaster(['--workers=2', `--port=${port}`]);
  try {
    await waitFor(() => server.children.length === 2);
    const [a, b] = server.children.map((entry) => entry.child);
    await a.boot();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.listening, null, 'serving with one of two workers ready');
    await b.boot();
    await waitFor(() => server.listening !== null, { message: 'serving' });
    for (const child of [a, b]) {
      assert.deepEqual(child.got('listener').map((sent) => sent.message), [{ type: 'listener', shared: true }]);
      assert.equal(child.got('listener')[0].handle, server.listening[0].handle, "the master's own socket");
    }
    // The fake workers do not listen, and the master never does: the connection is refused.
    const refused = await new Promise((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', (error) => resolve(error.code === 'ECONNREFUSED'));
    });
    assert.ok(refused, 'the master accepted a connection');
    // Each worker's open connections are passed on to all, once, when they change.
    a.say({ type: 'load', connections: 7 });
    await waitFor(() => b.got('loads').some((sent) => sent.message.loads.some(([id, n]) => id === 1 && n === 7)), { message: 'the loads passed on' });
    const sentLoads = b.got('loads').length;
    a.say({ type: 'heartbeat', connections: 7 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(b.got('loads').length, sentLoads, 'loads sent again that had not changed');
  } finally {
    await server.stop();
  }
});

test('the stop policy: TERM and INT stop gracefully, QUIT at once, a second signal at once; a stop asked otherwise never escalates', () => {
  const state = new StopState();
  assert.equal(state.signal('SIGTERM'), 'graceful');
  assert.equal(state.begin('graceful'), null);
  assert.equal(state.signal('SIGINT'), 'immediate');
  assert.equal(state.signal('SIGTERM'), null);
  assert.equal(new StopState().signal('SIGQUIT'), 'immediate');
  const asked = new StopState();
  assert.equal(asked.begin('graceful'), 'graceful');
  assert.equal(asked.begin('immediate'), 'immediate');
  assert.equal(asked.begin('graceful'), null);
});
