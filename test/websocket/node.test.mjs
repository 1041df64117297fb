// Upgrades in a Node app (SPEC §1.1): its named export `upgrade(req, socket, head)`
// receives node:http's 'upgrade' and 'connect' events, so that ws's
// WebSocketServer({ noServer: true }).handleUpgrade works as on node:http;
// without the export, an Upgrade request is the listener's as any other.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { RawConnection } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { sleep } from '../helpers/wait.mjs';
import { closed, echo, openWebSocket } from '../helpers/websocket.mjs';

const APP = new URL('../fixtures/websocket-node-app.mjs', import.meta.url).pathname;
const sha1 = (bytes) => createHash('sha1').update(bytes).digest('hex');

describe("a Node app's upgrade export", { concurrency: true }, () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=0', '--keepalive-timeout=1', '--timeout=1', APP]);
  });
  after(() => server?.stop());

  test("is given WebSocket handshakes: ws's handleUpgrade echoes text, binary and a large message", async () => {
    const ws = await openWebSocket(`ws://127.0.0.1:${server.port}/chat`);
    try {
      assert.deepEqual((await echo(ws, 'hello')).data.toString(), 'hello');
      const large = randomBytes(5 * 1024 * 1024);
      const back = await echo(ws, large);
      assert.equal(back.isBinary, true);
      assert.equal(sha1(back.data), sha1(large));
      // Idle past --timeout and --keepalive-timeout: the socket is the app's.
      await sleep(2500);
      assert.equal((await echo(ws, 'later')).data.toString(), 'later');
    } finally {
      ws.terminate();
    }
  });

  test('is given CONNECT, with the bytes sent behind its head', async () => {
    const c = await RawConnection.connect(server.port);
    try {
      c.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\nearly|');
      await c.waitForText('early|');
      c.write('late');
      await c.waitForText('late');
      assert.equal(c.text, 'HTTP/1.1 200 Connection Established\r\n\r\ntunnel to example.test:443|early|late');
    } finally {
      c.destroy();
    }
  });

  test('leaves other requests, Upgrade ones that end up plain included, to the listener', async () => {
    const c = await RawConnection.connect(server.port);
    try {
      c.write('GET /plain HTTP/1.1\r\nHost: x\r\n\r\n');
      const { responses } = await c.responses(1);
      assert.equal(responses[0].text, 'listener: GET /plain upgrade=-\n');
    } finally {
      c.destroy();
    }
  });
});

describe('a Node app without an upgrade export', () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=0', '-e', "export default (req, res) => res.end(`listener: ${req.method} ${req.url} upgrade=${req.headers.upgrade ?? '-'}\\n`);"]);
  });
  after(() => server?.stop());

  test('gets an Upgrade request in its listener, as before; CONNECT is answered 501', async () => {
    const c = await RawConnection.connect(server.port);
    try {
      c.write('GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      const { responses } = await c.responses(1);
      assert.deepEqual([responses[0].status, responses[0].text], [200, 'listener: GET /chat upgrade=websocket\n']);
    } finally {
      c.destroy();
    }
    const tunnel = await RawConnection.connect(server.port);
    try {
      tunnel.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      const { responses } = await tunnel.responses(1);
      assert.equal(responses[0].status, 501);
    } finally {
      tunnel.destroy();
    }
  });
});

describe('stopping a Node app with upgraded sockets', () => {
  test('TERM: a socket its upgrade export took is given --graceful-timeout, then cut', async () => {
    const server = await startServer(['--workers=1', '--graceful-timeout=3', APP]);
    let ws;
    try {
      ws = await openWebSocket(`ws://127.0.0.1:${server.port}/chat`);
      const end = closed(ws);
      server.kill('SIGTERM');
      await sleep(500);
      assert.equal((await echo(ws, 'during the stop')).data.toString(), 'during the stop');
      assert.equal((await end).code, 1006, 'cut, not closed by a close frame');
      assert.equal((await server.exited).code, 0);
      assert.match(server.stderr, /--graceful-timeout \(3 s\) passed: cutting 1 connection/);
    } finally {
      ws?.terminate();
      await server.stop();
    }
  });
});
