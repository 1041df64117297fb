// WebSockets and raw upgrades in a Fetch app (SPEC §1.1): context.upgradeWebSocket()
// gives a WebSocket made by the ws package, talked to here by the real ws
// client (and byte by byte where the client would not misbehave), and
// context.upgrade() hands over the raw connection with the bytes read after
// the head.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { RawConnection } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';
import { afterHead, clientFrame, closed, echo, handshake, openWebSocket, serverFrames } from '../helpers/websocket.mjs';
import { makeCertificates, opensslMissing } from '../tls/certs.mjs';

const APP = new URL('../fixtures/websocket-app.mjs', import.meta.url).pathname;
const MIB = 1024 * 1024;
const sha1 = (bytes) => createHash('sha1').update(bytes).digest('hex');

/** A raw connection that sent `bytes` and got the 101: resolves it with the frames that followed. */
async function rawUpgrade(port, bytes) {
  const c = await RawConnection.connect(port);
  c.write(bytes);
  await c.waitForText('\r\n\r\n');
  assert.match(c.text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  return c;
}

/** Waits for the server's close frame on a raw connection; returns it. */
async function closeFrame(c) {
  const found = () => serverFrames(afterHead(c.data) ?? Buffer.alloc(0)).find((frame) => frame.opcode === 8);
  await c.until(() => found() !== undefined, 5000);
  const frame = found();
  assert.ok(frame, `a close frame; received ${c.data.length} bytes: ${c.text.slice(0, 300)}`);
  return frame;
}

describe('upgradeWebSocket() in a Fetch app', { concurrency: true }, () => {
  let server;
  let url;
  before(async () => {
    server = await startServer(['--workers=0', '--websocket-max-payload=8m', '--keepalive-timeout=1', '--timeout=1', '--header-timeout=1', APP]);
    url = `ws://127.0.0.1:${server.port}`;
  });
  after(() => server?.stop());

  test('echoes text as text and binary as binary, with the subprotocol the app chose', async () => {
    const ws = await openWebSocket(`${url}/echo?protocol=chat`, ['other', 'chat']);
    try {
      assert.equal(ws.protocol, 'chat');
      const text = await echo(ws, 'héllo');
      assert.deepEqual([text.isBinary, text.data.toString()], [false, 'héllo']);
      const bytes = randomBytes(1000);
      const binary = await echo(ws, bytes);
      assert.equal(binary.isBinary, true);
      assert.deepEqual(binary.data, bytes);
    } finally {
      ws.terminate();
    }
  });

  test('echoes a message of several MiB whole, and a message sent in fragments as one', async () => {
    const ws = await openWebSocket(`${url}/echo`);
    try {
      const large = randomBytes(6 * MIB);
      const back = await echo(ws, large);
      assert.equal(back.data.length, large.length);
      assert.equal(sha1(back.data), sha1(large));
      const parts = ['one ', 'two ', 'three'];
      const whole = new Promise((resolve) => ws.once('message', (data, isBinary) => resolve({ data: data.toString(), isBinary })));
      parts.forEach((part, i) => ws.send(part, { fin: i === parts.length - 1 }));
      assert.deepEqual(await whole, { data: 'one two three', isBinary: false });
    } finally {
      ws.terminate();
    }
  });

  test('frames sent in the same write as the handshake reach the WebSocket (the head handed over, unparsed)', async () => {
    const c = await rawUpgrade(server.port, Buffer.concat([Buffer.from(handshake('/echo'), 'latin1'), clientFrame(1, 'GET / HTTP/1.1\r\n\r\n'), clientFrame(2, 'second')]));
    try {
      await c.until(() => serverFrames(afterHead(c.data)).length >= 2);
      const frames = serverFrames(afterHead(c.data));
      assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString()]), [[1, 'GET / HTTP/1.1\r\n\r\n'], [2, 'second']]);
    } finally {
      c.destroy();
    }
  });

  test('a frame the protocol forbids (an unmasked one from the client) is answered close 1002', async () => {
    const c = await rawUpgrade(server.port, handshake('/echo'));
    try {
      c.write(clientFrame(1, 'not masked', { masked: false }));
      const frame = await closeFrame(c);
      assert.equal(frame.code, 1002);
      assert.notEqual(await c.waitClosed(5000), 'timeout');
      // (ws reports the fault as an 'error' event too, which must not end the process.)
      const ws = await openWebSocket(`${url}/echo`);
      assert.equal((await echo(ws, 'alive')).data.toString(), 'alive');
      ws.terminate();
    } finally {
      c.destroy();
    }
  });

  test('a message over --websocket-max-payload is answered close 1009', async () => {
    const ws = await openWebSocket(`${url}/echo`);
    const end = closed(ws);
    ws.send(Buffer.alloc(8 * MIB + 1));
    assert.equal((await end).code, 1009);
  });

  test('permessage-deflate is agreed only with --websocket-deflate', async () => {
    const plain = await openWebSocket(`${url}/echo`);
    plain.terminate();
    assert.equal(plain.extensions, '', 'no extension by default, though the client asked for it');
    const deflating = await startServer(['--workers=0', '--websocket-deflate', APP]);
    try {
      const ws = await openWebSocket(`ws://127.0.0.1:${deflating.port}/echo`);
      try {
        assert.match(ws.extensions, /^permessage-deflate/);
        const text = 'compressible '.repeat(100_000);
        assert.equal((await echo(ws, text)).data.toString(), text);
      } finally {
        ws.terminate();
      }
    } finally {
      await deflating.stop();
    }
  });

  test('an idle WebSocket outlives --keepalive-timeout, --timeout and --header-timeout', async () => {
    const ws = await openWebSocket(`${url}/echo`);
    try {
      await sleep(2500);
      assert.equal(ws.readyState, ws.OPEN);
      assert.equal((await echo(ws, 'still here')).data.toString(), 'still here');
    } finally {
      ws.terminate();
    }
  });

  test('upgradeWebSocket() on a request that is no WebSocket handshake, and upgrade() on one that is no Upgrade, fail the request: 500, logged', async () => {
    const c = await RawConnection.connect(server.port);
    try {
      c.write('GET /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n');
      const { responses } = await c.responses(1);
      assert.equal(responses[0].status, 500);
      await waitFor(() => server.stderr.includes('not a WebSocket handshake: it has no valid Sec-WebSocket-Key'));
      c.write('GET /raw HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal((await c.responses(2)).responses[1].status, 500);
      await waitFor(() => server.stderr.includes('upgrade(): this request does not ask for an upgrade'));
    } finally {
      c.destroy();
    }
  });

  test('upgrade() hands the app the socket and the bytes read after the head; an app that answers plainly keeps HTTP', async () => {
    const c = await rawUpgrade(server.port, 'GET /raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst bytes|');
    try {
      c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      await c.waitForText('first bytes|GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(c.text, /^HTTP\/1\.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst bytes\|GET/);
    } finally {
      c.destroy();
    }
    const plain = await RawConnection.connect(server.port);
    try {
      plain.write('GET /other HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n');
      const { responses } = await plain.responses(2);
      assert.deepEqual(responses.map((r) => [r.status, r.text]), [[200, 'plain h2c\n'], [200, 'plain request\n']]);
    } finally {
      plain.destroy();
    }
  });
});

describe('upgradeWebSocket() over TLS (wss)', { skip: opensslMissing() ?? false }, () => {
  test('echoes on the decrypted stream, a message of several MiB included', async () => {
    const certs = makeCertificates();
    const server = await startServer(['--workers=0', '--ssl', `--ssl-key-file=${certs.file('server.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`, APP]);
    try {
      const ws = await openWebSocket(`wss://127.0.0.1:${server.port}/echo`, { ca: certs.pem('ca.crt') });
      try {
        assert.equal((await echo(ws, 'over tls')).data.toString(), 'over tls');
        const large = randomBytes(3 * MIB);
        assert.equal(sha1((await echo(ws, large)).data), sha1(large));
      } finally {
        ws.terminate();
      }
    } finally {
      await server.stop();
      certs.remove();
    }
  });
});

describe('stopping with upgraded connections', () => {
  test('TERM: WebSockets get close 1001 at once; a raw upgraded socket is served until --graceful-timeout, then cut', async () => {
    const server = await startServer(['--workers=1', '--graceful-timeout=4', APP]);
    let ws;
    let raw;
    try {
      ws = await openWebSocket(`ws://127.0.0.1:${server.port}/echo`);
      raw = await rawUpgrade(server.port, 'GET /raw HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      const wsClosed = closed(ws);
      server.kill('SIGTERM');
      assert.equal((await wsClosed).code, 1001);
      assert.equal(raw.closed, null, 'the raw socket is still open when the WebSocket is closed');
      raw.write('after the stop');
      await raw.waitForText('after the stop');
      assert.notEqual(await raw.waitClosed(10000), 'timeout', 'the raw socket is cut after --graceful-timeout');
      assert.equal((await server.exited).code, 0);
      assert.match(server.stderr, /--graceful-timeout \(4 s\) passed: cutting 1 connection/);
    } finally {
      ws?.terminate();
      raw?.destroy();
      await server.stop();
    }
  });

  test('a recycle (--max-reqs-per-child reached) sends the WebSockets close 1001', async () => {
    const server = await startServer(['--workers=1', '--max-reqs-per-child=2', APP]);
    let ws;
    try {
      ws = await openWebSocket(`ws://127.0.0.1:${server.port}/echo`);
      const wsClosed = closed(ws);
      const c = await RawConnection.connect(server.port);
      c.write('GET /plain HTTP/1.1\r\nHost: x\r\n\r\n');
      const { responses } = await c.responses(1);
      c.destroy();
      assert.equal(responses[0].status, 200);
      assert.equal((await wsClosed).code, 1001);
    } finally {
      ws?.terminate();
      await server.stop();
    }
  });

  test('a WebSocket opened while the server stops is sent close 1001 once open', async () => {
    const server = await startServer(['--workers=0', '--graceful-timeout=30', APP]);
    // (Ending its side when the server ends its own, as a WebSocket client does after the close frames.)
    const c = await RawConnection.connect(server.port, { allowHalfOpen: false });
    try {
      c.write(handshake('/echo?delay=300'));
      await c.waitForText('HTTP/1.1 103 ');
      server.kill('SIGTERM');
      await c.waitForText('HTTP/1.1 101 ');
      c.drop(c.text.indexOf('HTTP/1.1 101 '));
      assert.equal((await closeFrame(c)).code, 1001);
      c.write(clientFrame(8, Buffer.from([0x03, 0xe9])));
      assert.equal((await server.exited).code, 0);
    } finally {
      c.destroy();
      await server.stop();
    }
  });
});
