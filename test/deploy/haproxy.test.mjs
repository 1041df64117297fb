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
import { APP, Client, get, tempDir, waitFor } from '../helpers/process.mjs';
import { RawConnection } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { hupThroughProxy, termThroughProxy } from '../helpers/behind-proxy.mjs';

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
      await hupThroughProxy(server, haproxy.port, 'HAProxy', () => `; HAProxy's log:\n${haproxy.stderr.slice(-3000)}`);
      assert.deepEqual(await haproxy.states(), { app1: 'UP' }, 'starlight never looked down to the checks');
    });
  });

  test('TERM finishes the requests starlight accepted, then HAProxy answers 503', { timeout: 30000 }, async () => {
    await behindHaproxy(1, async (server, haproxy) => {
      await termThroughProxy(server, haproxy.port, 'HAProxy');
      await waitFor(async () => (await haproxy.states()).app1 === 'DOWN', { message: 'the check finding starlight down' });
      assert.equal((await get(haproxy.port, '/after')).status, 503);
    });
  });
});
