// SPEC §2, stopping: TERM and INT stop gracefully (idle keep-alive connections
// closed at once, in-flight requests finished with `Connection: close`, exit 0,
// no worker left; Starlight's B2 hang must not happen), busy workers are
// killed after --graceful-timeout, a second TERM stops at once, QUIT stops at
// once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP, Client, exitWithin, isAlive, livePids, seenWorkers, sleep, tempDir, waitForWorkers, withServer, writeApp } from '../helpers/process.mjs';

/** Settles to { response } or { error } without throwing. */
const settle = (promise) => promise.then((response) => ({ response, at: Date.now() }), (error) => ({ error, at: Date.now() }));

for (const signal of ['SIGTERM', 'SIGINT']) {
  for (const workers of [1, 2]) {
    test(`${signal}, --workers=${workers}: idle keep-alive closed at once, in-flight request finished with Connection: close, exit 0`, { timeout: 30000 }, async () => {
      await withServer([`--workers=${workers}`, APP], {}, async (server) => {
        const pids = await waitForWorkers(server.pid, workers);
        await seenWorkers(server.port, workers);
        // Idle keep-alive connections, on every worker.
        const idle = [];
        for (let i = 0; i < 4; i++) {
          const client = await Client.open(server.port);
          assert.equal((await client.request('/')).close, false);
          idle.push(client);
        }
        const busy = await Client.open(server.port);
        const slow = settle(busy.request('/slow?ms=1500'));
        await sleep(300);
        const signalledAt = Date.now();
        process.kill(server.pid, signal);
        const idleClosed = await Promise.all(idle.map((client) => client.closed.then((how) => ({ how, at: Date.now() }))));
        const { response, error, at: answeredAt } = await slow;
        assert.equal(error, undefined, `the in-flight request failed: ${error?.message}`);
        assert.equal(response.status, 200);
        assert.equal(response.json.path, '/slow');
        assert.equal(response.close, true, 'the in-flight response says Connection: close');
        for (const { how, at } of idleClosed) {
          assert.equal(how, 'fin', 'idle connections are closed cleanly');
          assert.ok(at - signalledAt < 700 && at < answeredAt - 300, `an idle connection closed ${at - signalledAt} ms after ${signal}, the slow answer came at ${answeredAt - signalledAt} ms`);
        }
        const exit = await exitWithin(server.exited, 5000);
        assert.deepEqual(exit, { code: 0, signal: null }, server.stderr);
        for (const pid of pids) assert.ok(!isAlive(pid), `worker ${pid} is left`);
      });
    });
  }
}

test('SIGTERM: a new connection during a graceful stop is refused, not left waiting', { timeout: 30000 }, async () => {
  for (const workers of [1, 2]) {
    await withServer([`--workers=${workers}`, APP], {}, async (server) => {
      await waitForWorkers(server.pid, workers);
      const busy = await Client.open(server.port);
      const slow = settle(busy.request('/slow?ms=2500'));
      await sleep(200);
      process.kill(server.pid, 'SIGTERM');
      await sleep(300);
      // The server is stopping: a new connection is refused at once (not accepted and left unanswered).
      const late = await settle(Client.open(server.port, 2000).then((client) => client.request('/', { close: true, timeoutMs: 1500 })));
      assert.equal(late.error?.code, 'ECONNREFUSED', `a connection during the stop: ${late.error?.message ?? late.response?.status}`);
      assert.equal((await slow).response?.status, 200);
      assert.deepEqual(await exitWithin(server.exited, 5000), { code: 0, signal: null });
    });
  }
});

for (const { what, route, deadline, killed } of [
  { what: 'a request that takes longer is cut, the worker killed', route: '/slow?ms=8000', deadline: 4000, killed: false },
  { what: 'a worker whose event loop is blocked during the stop is killed by the master', route: '/block?ms=8000', deadline: 5000, killed: true },
]) {
  test(`--graceful-timeout=1: ${what}; the master exits`, { timeout: 30000 }, async () => {
    await withServer(['--workers=2', '--graceful-timeout=1', APP], {}, async (server) => {
      const pids = await waitForWorkers(server.pid, 2);
      const busy = await Client.open(server.port);
      const pending = settle(busy.request(route));
      await sleep(300);
      const signalledAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const exit = await exitWithin(server.exited, deadline + 2000);
      const took = Date.now() - signalledAt;
      assert.notEqual(exit, null, 'the master did not exit');
      assert.equal(exit.code, 0, server.stderr);
      assert.ok(took >= 800 && took < deadline, `stopped ${took} ms after SIGTERM with --graceful-timeout=1`);
      if (killed) assert.match(server.stderr, /did not stop in time: killing it/);
      assert.ok((await pending).error !== undefined, 'the request was cut');
      for (const pid of pids) assert.ok(!isAlive(pid), `worker ${pid} is left`);
    });
  });
}

test('a second SIGTERM during a graceful stop stops at once', { timeout: 30000 }, async () => {
  await withServer(['--workers=2', APP], {}, async (server) => {
    const pids = await waitForWorkers(server.pid, 2);
    const busy = await Client.open(server.port);
    const slow = settle(busy.request('/slow?ms=8000'));
    await sleep(300);
    const signalledAt = Date.now();
    process.kill(server.pid, 'SIGTERM');
    await sleep(300);
    assert.equal(await exitWithin(server.exited, 0), null, 'the graceful stop waits for the slow request');
    process.kill(server.pid, 'SIGTERM');
    const exit = await exitWithin(server.exited, 5000);
    assert.notEqual(exit, null, 'the master did not exit after the second SIGTERM');
    assert.ok(Date.now() - signalledAt < 3000, `stopped ${Date.now() - signalledAt} ms after the first SIGTERM`);
    assert.ok((await slow).error !== undefined, 'the slow request was cut');
    for (const pid of pids) assert.ok(!isAlive(pid), `worker ${pid} is left`);
  });
});

for (const workers of [1, 2]) {
  test(`SIGQUIT, --workers=${workers}: immediate stop, the in-flight request does not complete`, { timeout: 30000 }, async () => {
    await withServer([`--workers=${workers}`, APP], {}, async (server) => {
      const pids = await waitForWorkers(server.pid, workers);
      const busy = await Client.open(server.port);
      const slow = settle(busy.request('/slow?ms=3000'));
      await sleep(300);
      const signalledAt = Date.now();
      process.kill(server.pid, 'SIGQUIT');
      const exit = await exitWithin(server.exited, 5000);
      assert.notEqual(exit, null, 'the master did not exit');
      assert.ok(Date.now() - signalledAt < 2000, `stopped ${Date.now() - signalledAt} ms after SIGQUIT`);
      const { error } = await slow;
      assert.ok(error !== undefined, 'the in-flight request completed');
      assert.ok(Date.now() - signalledAt < 2500);
      for (const pid of pids) assert.ok(!isAlive(pid), `worker ${pid} is left`);
    });
  });
}

test('SIGTERM during a rolling restart (a new worker still loading): graceful stop, exit 0, no worker left', { timeout: 30000 }, async () => {
  const dir = tempDir();
  const app = dir.file('app.mjs');
  writeApp(app, 'v1');
  try {
    await withServer(['--workers=2', app], {}, async (server) => {
      await waitForWorkers(server.pid, 2);
      const busy = await Client.open(server.port);
      const slow = settle(busy.request('/slow?ms=1000'));
      writeApp(app, 'v2', { bootDelayMs: 3000 });
      process.kill(server.pid, 'SIGHUP');
      await sleep(300);
      const all = livePids(server.pid);
      assert.equal(all.length, 3, 'a new worker is loading');
      process.kill(server.pid, 'SIGTERM');
      const { response } = await slow;
      assert.equal(response?.status, 200);
      assert.equal(response.json.version, 'v1');
      const exit = await exitWithin(server.exited, 5000);
      assert.deepEqual(exit, { code: 0, signal: null }, server.stderr);
      for (const pid of all) assert.ok(!isAlive(pid), `worker ${pid} is left`);
    });
  } finally {
    dir.remove();
  }
});
