// Real HAProxy (Debian's package) in front of starlight under --proxy-protocol, with the config
// docs/deploy.md shows (helpers/haproxy.mjs): its HTTP health checks, sent with a PROXY v2
// header, find starlight up; the app sees HAProxy's client's address, not HAProxy's; a HUP
// rolling restart under a bounded load of GETs and POSTs through HAProxy loses no request; a
// TERM lets the requests starlight had accepted finish, after which HAProxy answers 503 (its
// only server is down). The first test checks that docs/deploy.md shows the config these run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { haproxyConfig, haproxySkip, startHaproxy } from '../helpers/haproxy.mjs';
import { APP, Client, get, livePids, newSockets, openSockets, settle, sleep, startLoad, startPosts, tempDir, waitFor, waitForWorkers } from '../helpers/process.mjs';
import { RawConnection } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

/** Starts starlight (`--workers=N --proxy-protocol` and the test app) and HAProxy in front of it, once its check finds it up; runs `body`; stops both. */
async function behindHaproxy(workers, body) {
  const dir = tempDir();
  const server = await startServer([`--workers=${workers}`, '--proxy-protocol', APP], { timeoutMs: 15000 });
  let haproxy = null;
  try {
    haproxy = await startHaproxy(dir, [`127.0.0.1:${server.port}`]);
    await waitFor(async () => (await haproxy.states()).app1 === 'UP', { timeoutMs: 10000, message: () => `HAProxy's check finding starlight up; HAProxy's log:\n${haproxy.stderr}` });
    await body(server, haproxy);
  } finally {
    await haproxy?.stop();
    await server.stop();
    dir.remove();
  }
}

const DEPLOY_DOC = new URL('../../docs/deploy.md', import.meta.url);

test('docs/deploy.md shows the HAProxy config these tests run', () => {
  const doc = readFileSync(DEPLOY_DOC, 'utf8');
  const block = `<!-- haproxy:one -->\n\`\`\`haproxy\n${haproxyConfig(':80', ['127.0.0.1:8080'])}\`\`\`\n`;
  assert.ok(doc.includes(block), `docs/deploy.md has, after <!-- haproxy:one -->:\n${block}`);
});

describe('HAProxy in front of starlight', { skip: haproxySkip }, () => {
  test('health checks with PROXY v2 find starlight up; the app sees the address of HAProxy\'s client', { timeout: 30000 }, async () => {
    await behindHaproxy(1, async (server, haproxy) => {
      // The client connects from 127.0.0.2, HAProxy to starlight from 127.0.0.1: only the PROXY header tells 127.0.0.2.
      const client = new Client(await RawConnection.connect(haproxy.port, { localAddress: '127.0.0.2', allowHalfOpen: false, timeoutMs: 5000 }));
      try {
        for (let i = 0; i < 3; i++) {
          const { status, json } = await client.request(`/through-haproxy-${i}`);
          assert.equal(status, 200);
          assert.equal(json.path, `/through-haproxy-${i}`);
          assert.equal(json.remoteAddress, '127.0.0.2');
        }
      } finally {
        client.destroy();
      }
      // The checks went on meanwhile (every 500 ms), each a PROXY v2 connection starlight answered.
      assert.deepEqual(await haproxy.states(), { app1: 'UP' });
    });
  });

  test('a HUP rolling restart under load through HAProxy loses no request', { timeout: 40000 }, async () => {
    await behindHaproxy(2, async (server, haproxy) => {
      const old = await waitForWorkers(server.pid, 2);
      // Each request takes a while, so that some are in flight at the moment an old worker stops.
      const load = startLoad(haproxy.port, { keepAlive: 2, oneShot: 1, path: '/slow?ms=50' });
      const posts = startPosts(haproxy.port, 2, '/slow?ms=50');
      await sleep(1000);
      process.kill(server.pid, 'SIGHUP');
      await waitFor(
        () => {
          const pids = livePids(server.pid);
          return pids.length === 2 && pids.every((pid) => !old.includes(pid));
        },
        { timeoutMs: 15000, message: () => `two new workers (live: ${livePids(server.pid)}, old: ${old})` },
      );
      await sleep(1000);
      const [stats, postStats] = await Promise.all([load.stop(), posts.stop()]);
      assert.deepEqual(stats.failures, [], `failed GETs through HAProxy (ok: ${stats.ok}); HAProxy's log:\n${haproxy.stderr.slice(-3000)}`);
      assert.deepEqual(postStats.failures, [], `failed POSTs through HAProxy (ok: ${postStats.ok}); HAProxy's log:\n${haproxy.stderr.slice(-3000)}`);
      assert.ok(postStats.ok > 0, 'POSTs answered');
      assert.ok([...stats.pids.keys()].some((pid) => old.includes(pid)), 'old workers answered');
      assert.ok([...stats.pids.keys()].some((pid) => !old.includes(pid)), 'new workers answered');
      assert.deepEqual(await haproxy.states(), { app1: 'UP' }, 'starlight never looked down to the checks');
    });
  });

  test('TERM finishes the requests starlight accepted, then HAProxy answers 503', { timeout: 30000 }, async () => {
    await behindHaproxy(1, async (server, haproxy) => {
      const [worker] = await waitForWorkers(server.pid, 1);
      const before = openSockets(worker);
      const inFlight = Array.from({ length: 4 }, (_, i) => settle(get(haproxy.port, `/slow?ms=1500&n=${i}`)));
      // Each request in flight is a connection from HAProxy that the worker accepted.
      await waitFor(() => newSockets(worker, before).length >= 4, { message: () => `4 connections from HAProxy (have ${newSockets(worker, before).length})` });
      server.kill('SIGTERM');
      for (const { response, error } of await Promise.all(inFlight)) {
        assert.equal(error, undefined, `an accepted request failed: ${error?.message}`);
        assert.equal(response.status, 200, response.body);
        assert.equal(response.json.path, '/slow');
      }
      const exit = await server.exited;
      assert.equal(exit.code, 0, server.stderr);
      await waitFor(async () => (await haproxy.states()).app1 === 'DOWN', { message: 'the check finding starlight down' });
      assert.equal((await get(haproxy.port, '/after')).status, 503);
    });
  });
});
