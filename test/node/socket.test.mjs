// The Node-app connection socket (src/node/socket.ts), on real TCP handles:
// writes of one event-loop turn go out in one system call, in order (one
// write where they are strings of one encoding, empty ones dropped), with a
// large write sent at once after what was held, and ending or destroying the
// socket sends what is held first; TCP_NODELAY waits for the second send; and
// a lingering close outlives the socket on its handle. The handle's write and
// setNoDelay calls are counted on the handle itself (its own properties,
// wrapping node's).

import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { after, before, test } from 'node:test';

import { ServedPlainSocket } from '../../dist/node/socket.js';
import { exitWithin } from '../helpers/wait.mjs';

let listener;
/** Every socket of the tests, destroyed at the end whatever a test left open. */
const opened = [];
before(async () => {
  listener = net.createServer({ pauseOnConnect: true });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
});
after(() => {
  for (const socket of opened) socket.destroy();
  listener.close();
});

/** A connected pair: the client's socket (`clientOptions` for net.connect()), and a ServedPlainSocket on the server's end, with its handle's write calls counted. */
async function pair(clientOptions = {}) {
  const accepted = once(listener, 'connection');
  const client = net.connect({ port: listener.address().port, host: '127.0.0.1', ...clientOptions });
  const [raw] = await accepted;
  const handle = raw._handle;
  const calls = [];
  for (const method of ['writev', 'writeBuffer', 'writeLatin1String', 'writeUtf8String', 'setNoDelay']) {
    const original = handle[method];
    handle[method] = function (...args) {
      calls.push(method);
      return original.apply(this, args);
    };
  }
  const socket = new ServedPlainSocket(handle);
  opened.push(client, socket);
  let received = '';
  client.setEncoding('latin1');
  client.on('data', (text) => (received += text));
  const ended = once(client, 'end');
  return { client, socket, calls, received: () => received, ended };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Waits for `promise` a second at most (a test that fails must not hang the run). */
async function soon(promise) {
  assert.notEqual(await exitWithin(promise, 1000), null, 'not within 1 s');
}

test('the writes of one turn are reported done at once, and go out together in one write in its check phase (strings of one encoding joined)', async () => {
  const { client, socket, calls, received, ended } = await pair();
  const done = [];
  for (let i = 0; i < 16; i++) socket.write(`response ${i}\n`, () => done.push(i));
  await new Promise((resolve) => process.nextTick(resolve));
  assert.equal(done.length, 16, 'each write reported done in the same turn');
  assert.deepEqual(calls, [], 'nothing written before the check phase');
  await turn();
  assert.deepEqual(calls, ['writeUtf8String']);
  socket.end();
  await soon(ended);
  assert.equal(received(), Array.from({ length: 16 }, (_, i) => `response ${i}\n`).join(''));
  client.destroy();
});

test('writes of one turn that mix buffers and strings, or strings of two encodings, go out in one writev, in order', async () => {
  for (const [first, second, expected] of [
    [['head\n', 'latin1'], [Buffer.from('body\n'), undefined], 'head\nbody\n'],
    [['caf\u00e9\n', 'latin1'], ['caf\u00e9\n', 'utf8'], 'caf\u00e9\ncaf\u00c3\u00a9\n'],
  ]) {
    const { client, socket, calls, received, ended } = await pair();
    socket.write(...first);
    socket.write(...second);
    await turn();
    assert.deepEqual(calls, ['writev']);
    socket.end();
    await soon(ended);
    assert.equal(received(), expected, 'each chunk in its own encoding (read back as latin1)');
    client.destroy();
  }
});

test('an empty write is dropped: node:http ends each response with one, and the response still goes out in one write (held, or at once when large)', async () => {
  for (const body of ['body', 'y'.repeat(20000)]) {
    const { client, socket, calls, received, ended } = await pair();
    let reported = false;
    socket.cork();
    socket.write(`HTTP/1.1 200 OK\r\n\r\n${body}`, 'utf8');
    socket.write('', 'latin1', () => (reported = true));
    socket.uncork();
    await turn();
    assert.equal(reported, true, 'the empty write is reported done');
    assert.deepEqual(calls, ['writeUtf8String'], `a body of ${body.length} bytes`);
    socket.end();
    await soon(ended);
    assert.equal(received(), `HTTP/1.1 200 OK\r\n\r\n${body}`);
    client.destroy();
  }
});

test('a write that would hold more than the limit goes out at once, after what was held', async () => {
  const { client, socket, calls, received, ended } = await pair();
  socket.write('small first\n');
  const large = 'x'.repeat(20000);
  socket.write(large);
  await new Promise((resolve) => process.nextTick(resolve));
  assert.deepEqual(calls.filter((call) => call !== 'setNoDelay'), ['writeUtf8String', 'writeUtf8String'], 'the held write, then the large one, both before the check phase');
  socket.end('last\n');
  await soon(ended);
  assert.equal(received(), `small first\n${large}last\n`);
  client.destroy();
});

test('ending the socket sends what is held before the FIN', async () => {
  const { client, socket, received, ended } = await pair();
  socket.write('held\n');
  socket.end();
  await soon(ended);
  assert.equal(received(), 'held\n');
  client.destroy();
});

test('destroying the socket sends what is held before the close', async () => {
  const { client, socket, received } = await pair();
  socket.write('held, then destroyed\n');
  socket.destroy();
  await soon(once(client, 'close'));
  assert.equal(received(), 'held, then destroyed\n');
});

test('TCP_NODELAY is set before the second send, not before the first', async () => {
  const { client, socket, calls, ended } = await pair();
  socket.write('first\n');
  await turn();
  assert.deepEqual(calls, ['writeUtf8String'], 'one write, alone, and no setNoDelay');
  socket.write('second\n');
  await turn();
  assert.deepEqual(calls, ['writeUtf8String', 'setNoDelay', 'writeUtf8String']);
  socket.end();
  await soon(ended);
  client.destroy();
});

/** A socket closing with destroySoon() after `last`, its connection's close counted by onceClosed(). */
async function lingering() {
  // The client does not answer our FIN with its own.
  const connection = await pair({ allowHalfOpen: true });
  let closedCount = 0;
  let connectionClosed;
  const closed = new Promise((resolve) => (connectionClosed = resolve));
  connection.socket.onceClosed(function () {
    assert.equal(this, connection.socket);
    closedCount++;
    connectionClosed();
  });
  connection.socket.write('last\n');
  connection.socket.destroySoon();
  await soon(once(connection.socket, 'close'));
  return { ...connection, closed, closedCount: () => closedCount };
}

test('destroySoon(): once the FIN is out the socket closes and its handle lingers, dropping what the client sends, until the client closes', async () => {
  const { client, socket, received, ended, closed, closedCount } = await lingering();
  await soon(ended);
  assert.equal(received(), 'last\n');
  assert.equal(socket.lingersOnHandle, true);
  assert.equal(closedCount(), 0, "the connection outlives the socket's close");
  let clientError = null;
  client.on('error', (error) => (clientError = error));
  // Unread, these would make the kernel reset the connection at its close.
  client.write('x'.repeat(64 * 1024));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(closedCount(), 0);
  client.end();
  await soon(closed);
  await soon(once(client, 'close'));
  assert.equal(clientError, null, 'no reset');
  assert.equal(closedCount(), 1);
});

test('destroy() of a socket whose handle lingers closes the handle at once', async () => {
  const { client, socket, ended, closed, closedCount } = await lingering();
  await soon(ended);
  socket.destroy();
  await soon(closed);
  assert.equal(closedCount(), 1);
  client.destroy();
});
