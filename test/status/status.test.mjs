// The status page (--status-path, --status-allow; SPEC §4), with real
// processes: each worker's figures and the totals match the requests sent
// (polled: the other workers' lines are up to a couple of seconds old), as
// text, JSON and Prometheus (checked by promtool when it is installed:
// Debian's prometheus package); a client not allowed gets 403 (the client
// as the app is told of it: one a trusted proxy names counts); the page is
// answered by a worker while the app is blocked in another; a Node app and
// --workers=0 have it too.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { Client, get, tempDir, waitFor } from '../helpers/process.mjs';
import { RawConnection, httpRequest } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = new URL('../fixtures/status-app.mjs', import.meta.url).pathname;
const PROMTOOL = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;

/** One request on a new connection (from `from`, a local address; with `headers`); the parsed response. */
async function ask(port, method, target, { from, headers = {} } = {}) {
  const connection = await RawConnection.connect(port, from === undefined ? {} : { localAddress: from });
  try {
    connection.write(httpRequest(method, target, { headers: { Connection: 'close', ...headers } }));
    const { all } = await connection.untilClosed({ method });
    return all[0];
  } finally {
    connection.destroy();
  }
}

/** The JSON page: the parsed body, after checking its shape (SPEC §4). */
function parsePage(status, type, text) {
  assert.equal(status, 200, text);
  assert.equal(type, 'application/json');
  const page = JSON.parse(text);
  assert.deepEqual(Object.keys(page), ['uptime', 'workers', 'totals']);
  for (const worker of page.workers) assert.deepEqual(Object.keys(worker), ['id', 'pid', 'state', 'requests', 'connections', 'rss', 'uptime']);
  assert.deepEqual(Object.keys(page.totals), ['requests', 'connections']);
  return page;
}

describe('the status page of 2 workers (a Fetch app)', () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=2', '--status-path=/status', APP], { timeoutMs: 15000 });
  });
  after(() => server?.stop());

  test("each worker's requests and connections, and the totals, come to what was sent; text and Prometheus say the same", async (t) => {
    // App requests on connections of their own (closed after), counted by the pid that answered.
    const sent = new Map();
    await waitFor(
      async () => {
        const { pid } = (await get(server.port, '/')).json;
        sent.set(pid, (sent.get(pid) ?? 0) + 1);
        return sent.size === 2 && [...sent.values()].every((n) => n >= 3);
      },
      { timeoutMs: 10000, intervalMs: 0, message: 'both workers answering' },
    );
    // The page is asked on one keep-alive connection, which one worker serves: the first request names it.
    const client = await Client.open(server.port);
    try {
      const { pid: polled } = (await client.request('/whoami')).json;
      sent.set(polled, sent.get(polled) + 1);
      let asked = 0;
      let page;
      const expected = () => [...sent].map(([pid, n]) => [pid, pid === polled ? n + asked : n, pid === polled ? 1 : 0]).sort((a, b) => a[0] - b[0]);
      const seen = () => page.workers.map((w) => [w.pid, w.requests, w.connections]).sort((a, b) => a[0] - b[0]);
      await waitFor(
        async () => {
          asked++;
          const response = await client.request('/status?json');
          page = parsePage(response.status, response.headers['content-type'], response.body);
          return JSON.stringify(seen()) === JSON.stringify(expected());
        },
        { timeoutMs: 10000, intervalMs: 100, message: () => `the page's [pid, requests, connections] ${JSON.stringify(seen())} to be ${JSON.stringify(expected())}` },
      );
      const total = [...sent.values()].reduce((a, b) => a + b, 0) + asked;
      assert.deepEqual(page.totals, { requests: total, connections: 1 });
      assert.deepEqual(page.workers.map((w) => [w.id, w.state]), [[1, 'ready'], [2, 'ready']]);
      for (const worker of page.workers) {
        assert.ok(worker.rss > 1e6, `an RSS in bytes: ${worker.rss}`);
        assert.ok(worker.uptime > 0 && worker.uptime <= page.uptime + 1, `worker uptime ${worker.uptime} within the server's ${page.uptime}`);
      }

      // Text: the same figures, a line per worker (the answering worker's count has grown by this request).
      const text = await client.request('/status');
      assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
      const lines = text.body.split('\n');
      assert.match(lines[0], /^Uptime: \d+$/);
      assert.deepEqual(lines.slice(1, 6), ['Workers: 2', `Requests: ${total + 1}`, 'Connections: 1', '--', 'id pid state requests connections rss uptime']);
      const rows = lines.slice(6, 8).map((line) => line.split(' '));
      assert.deepEqual(
        rows.map(([id, pid, state, requests, connections]) => [Number(id), Number(pid), state, Number(requests), Number(connections)]),
        page.workers.map((w) => [w.id, w.pid, 'ready', w.pid === polled ? w.requests + 1 : w.requests, w.connections]),
      );

      // Prometheus: the metrics SPEC §4 names, labelled by worker and pid.
      const metrics = await client.request('/status?prometheus');
      assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(metrics.body, /^starlight_workers 2$/m);
      for (const w of page.workers) {
        const labels = `{worker="${w.id}",pid="${w.pid}"}`;
        assert.match(metrics.body, new RegExp(`^starlight_requests_total${labels} ${w.pid === polled ? w.requests + 2 : w.requests}$`, 'm'));
        assert.match(metrics.body, new RegExp(`^starlight_connections${labels} ${w.connections}$`, 'm'));
        assert.match(metrics.body, new RegExp(`^starlight_worker_rss_bytes${labels} \\d+$`, 'm'));
        assert.match(metrics.body, new RegExp(`^starlight_worker_uptime_seconds${labels} [0-9.]+$`, 'm'));
      }
      if (!PROMTOOL) {
        t.diagnostic('promtool not found (Debian package prometheus): the metrics are not checked by it');
      } else {
        const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics.body, encoding: 'utf8' });
        assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}\n${metrics.body}`);
      }
    } finally {
      client.destroy();
    }
  });

  test('the page is answered while the app blocks the event loop of the other worker', async () => {
    const dir = tempDir();
    const marker = dir.file('blocked');
    const release = dir.file('release');
    const blocked = await RawConnection.connect(server.port);
    const pending = [];
    try {
      blocked.write(httpRequest('GET', `/block?marker=${marker}&release=${release}`));
      await waitFor(() => existsSync(marker), { timeoutMs: 10000, message: 'the app blocking a worker' });
      // The blocked worker accepts nothing while blocked: the other answers (two are asked; one answer is enough).
      for (let i = 0; i < 2; i++) pending.push(ask(server.port, 'GET', '/status?json'));
      const answered = await Promise.any(pending);
      const page = parsePage(answered.status, answered.header('content-type'), answered.text);
      assert.equal(blocked.data.length, 0, 'the blocked request is not answered yet');
      const blockedPid = Number(readFileSync(marker, 'utf8'));
      assert.equal(page.workers.length, 2);
      assert.ok(page.workers.some((w) => w.pid === blockedPid) && page.workers.some((w) => w.pid !== blockedPid), JSON.stringify(page));
      writeFileSync(release, '');
      const { responses } = await blocked.responses(1, {}, 10000);
      assert.deepEqual([responses[0].status, JSON.parse(responses[0].text).pid], [200, blockedPid]);
      for (const response of await Promise.all(pending)) assert.equal(response.status, 200);
    } finally {
      if (!existsSync(release)) writeFileSync(release, '');
      await Promise.allSettled(pending);
      blocked.destroy();
      dir.remove();
    }
  });
});

for (const kind of ['Fetch', 'Node']) {
  describe(`the status page of one process (--workers=0, a ${kind} app)`, () => {
    let server;
    before(async () => {
      server = await startServer(['--workers=0', '--status-path=/status', '--status-allow=127.0.0.2,192.168.0.0/16', APP], {
        env: kind === 'Node' ? { STATUS_APP_NODE: '1' } : {},
      });
    });
    after(() => server?.stop());

    test('its own line, live: the requests received so far, this one included', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await ask(server.port, 'GET', '/app')).status, 200);
      const response = await ask(server.port, 'GET', '/status?json', { from: '127.0.0.2' });
      const page = parsePage(response.status, response.header('content-type'), response.text);
      assert.deepEqual(
        page.workers.map((w) => [w.id, w.pid, w.state, w.requests, w.connections]),
        [[0, server.pid, 'ready', 4, 1]],
      );
      assert.deepEqual(page.totals, { requests: 4, connections: 1 });
    });

    test('a client not in --status-allow gets 403, and the app does not see the request', async () => {
      const refused = await ask(server.port, 'GET', '/status?json');
      assert.equal(refused.status, 403);
      assert.doesNotMatch(refused.text, /pid|requests/);
      assert.equal((await ask(server.port, 'GET', '/status', { from: '127.0.0.2' })).status, 200);
    });

    test('the client checked is the one the app is told of: named by a trusted proxy (127.0.0.1), else the peer', async () => {
      const from = (peer, forwardedFor) => ask(server.port, 'GET', '/status', { from: peer, headers: { 'X-Forwarded-For': forwardedFor } });
      // 127.0.0.1 is in --forwarded-allow-ips (the default): the client it names is checked, not the peer itself.
      assert.equal((await from('127.0.0.1', '192.168.7.9')).status, 200);
      assert.equal((await from('127.0.0.1', '203.0.113.9')).status, 403);
      assert.equal((await from('127.0.0.1', '127.0.0.2')).status, 200);
      // 127.0.0.2 is not a trusted proxy: what it says of a client changes nothing.
      assert.equal((await from('127.0.0.2', '203.0.113.9')).status, 200);
    });

    test('only the path itself is the page: a longer one is the app\'s; a method other than GET or HEAD gets 405', async () => {
      const app = await ask(server.port, 'GET', '/status-of-the-app', { from: '127.0.0.2' });
      assert.equal(JSON.parse(app.text).path, '/status-of-the-app');
      const post = await ask(server.port, 'POST', '/status', { from: '127.0.0.2' });
      assert.equal(post.status, 405);
      assert.equal(post.header('allow'), 'GET, HEAD');
      const head = await ask(server.port, 'HEAD', '/status?prometheus', { from: '127.0.0.2' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
    });
  });
}
