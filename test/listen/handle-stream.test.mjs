// A connection driven on its libuv handle (listen/handle-stream.ts), without a
// net.Socket: real accepted handles, real node:net clients. What the HTTP
// engine relies on: reads lent in order, the client's FIN and the close told
// once each; latin1 strings, buffers and mixed writev in order; a FIN of ours
// with reading going on; pausing; backpressure and its drain; the hand-over to
// a net.Socket on an upgrade; the two ends' addresses. And where Node would
// refuse its stream base, a server that serves plain connections all the same.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { test } from 'node:test';
import { acceptOn, bindListeners } from '../../dist/listen/bind.js';
import { HandleStream } from '../../dist/listen/handle-stream.js';
import { startFetchApp } from '../helpers/fetch-app.mjs';
import { tempDir } from '../helpers/process.mjs';
import { exchange, httpRequest } from '../helpers/raw.mjs';
import { sleep, waitFor } from '../helpers/wait.mjs';

/** What a stream told: the bytes (copied, since they are lent), and its events in order. */
class Recorder {
  received = Buffer.alloc(0);
  events = [];
  onData(chunk) {
    this.received = Buffer.concat([this.received, chunk]);
    if (this.events.at(-1) !== 'data') this.events.push('data');
  }
  onEnd() {
    this.events.push('end');
  }
  onDrain() {
    this.events.push('drain');
  }
  onClose() {
    this.events.push('close');
  }
  text() {
    return this.received.toString('latin1');
  }
}

/** A listener whose accepted connections become started HandleStreams; `client()` connects one and resolves with both ends. */
async function listening(spec = { kind: 'tcp', host: '127.0.0.1', port: 0 }) {
  const [listener] = await bindListeners([spec], { ipv6: false });
  const accepted = [];
  acceptOn(listener.handle, 16, (handle) => {
    const recorder = new Recorder();
    const stream = new HandleStream(handle);
    stream.start(recorder);
    accepted.push({ stream, recorder });
  });
  const clients = [];
  return {
    listener,
    async client() {
      const socket = net.connect({ allowHalfOpen: true, ...(spec.kind === 'tcp' ? { host: '127.0.0.1', port: listener.port } : { path: spec.path }) });
      clients.push(socket);
      const received = [];
      socket.on('data', (chunk) => received.push(chunk));
      await once(socket, 'connect');
      await waitFor(() => accepted.length === clients.length, { message: 'the accept' });
      return { socket, received: () => Buffer.concat(received), ...accepted.at(-1) };
    },
    close() {
      for (const socket of clients) socket.destroy();
      listener.handle.close();
    },
  };
}

/** Runs `body` with a listening() server, closed after whatever happens. */
async function withListener(body, spec) {
  const server = await listening(spec);
  try {
    await body(server);
  } finally {
    server.close();
  }
}

test('reads come in order, the client FIN is onEnd, and destroy() closes: onClose once, last', () =>
  withListener(async (server) => {
    const { socket, stream, recorder } = await server.client();
    socket.write('abc');
    await waitFor(() => recorder.text() === 'abc', { message: 'the first read' });
    socket.end('def');
    await waitFor(() => recorder.events.includes('end'), { message: 'the FIN' });
    assert.equal(recorder.text(), 'abcdef');
    stream.destroy();
    stream.destroy(); // (a second one does nothing)
    await once(socket, 'close');
    await waitFor(() => recorder.events.includes('close'), { message: 'the close' });
    assert.deepEqual(recorder.events, ['data', 'end', 'close']);
    assert.equal(stream.write('late'), false, 'nothing is written once closed');
  }));

test('strings go out as latin1, buffers as they are, writev in order; end() sends a FIN and reading goes on', () =>
  withListener(async (server) => {
    const { socket, stream, recorder, received } = await server.client();
    assert.equal(stream.write('caf\xe9 '), true);
    assert.equal(stream.write(Buffer.from([0x00, 0xff])), true);
    assert.equal(stream.writev([' one', Buffer.from(' two'), ' three']), true);
    stream.end();
    await once(socket, 'end');
    assert.deepEqual(received(), Buffer.concat([Buffer.from('caf\xe9 ', 'latin1'), Buffer.from([0x00, 0xff]), Buffer.from(' one two three')]));
    socket.end('after our FIN');
    await waitFor(() => recorder.events.includes('end'), { message: "the client's FIN" });
    assert.equal(recorder.text(), 'after our FIN');
    stream.destroy();
    await waitFor(() => recorder.events.includes('close'), { message: 'the close' });
  }));

test('pause() stops reading until resume()', () =>
  withListener(async (server) => {
    const { socket, stream, recorder } = await server.client();
    stream.pause();
    socket.write('held');
    await sleep(150);
    assert.equal(recorder.text(), '', 'read while paused');
    stream.resume();
    await waitFor(() => recorder.text() === 'held', { message: 'the read after resume()' });
  }));

test('a client that does not read: a write says to wait, and onDrain() comes once it has read it all', () =>
  withListener(async (server) => {
    const { socket, stream, recorder, received } = await server.client();
    socket.pause();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let written = 0;
    let writable = true;
    while (writable && written < 256 * chunk.length) {
      writable = stream.write(chunk);
      written += chunk.length;
    }
    assert.equal(writable, false, 'every write was taken at once');
    assert.equal(stream.needsDrain, true);
    assert.deepEqual(recorder.events, []);
    socket.resume();
    await waitFor(() => recorder.events.includes('drain'), { message: 'the drain', timeoutMs: 20000 });
    assert.equal(stream.needsDrain, false);
    await waitFor(() => received().length === written, { message: 'every byte', timeoutMs: 20000 });
  }));

test('handOver(): a net.Socket on the same connection reads what comes next and writes after what was written; destroy() destroys it, and its close is onClose()', () =>
  withListener(async (server) => {
    const { socket, stream, recorder, received } = await server.client();
    stream.write('before;');
    const handed = stream.handOver();
    assert.ok(handed instanceof net.Socket);
    socket.write('to the new owner');
    const [chunk] = await once(handed, 'data');
    assert.equal(chunk.toString(), 'to the new owner');
    assert.equal(recorder.text(), '', 'the stream read nothing after the hand-over');
    assert.equal(stream.write('not ours any more'), false);
    handed.write('after;');
    await waitFor(() => received().toString() === 'before;after;', { message: "the new owner's write" });
    stream.destroy(); // (what a server that stops does: it destroys the new owner's socket)
    await once(socket, 'end');
    assert.equal(handed.destroyed, true);
    await waitFor(() => recorder.events.includes('close'), { message: 'the close' });
    assert.deepEqual(recorder.events, ['close']);
  }));

test("a TCP connection's two ends are the client's and the listener's; a UNIX one has none to say", async () => {
  await withListener(async (tcp) => {
    const { socket, stream } = await tcp.client();
    assert.equal(stream.ends.remoteAddress, '127.0.0.1');
    assert.equal(stream.ends.remotePort, socket.localPort);
    assert.equal(stream.ends.remoteFamily, 'IPv4');
    assert.equal(stream.ends.localAddress, '127.0.0.1');
    assert.equal(stream.ends.localPort, tcp.listener.port);
  });
  const dir = tempDir();
  try {
    await withListener(async (unix) => {
      const { socket, stream, recorder } = await unix.client();
      assert.equal(stream.ends.remoteAddress, undefined);
      assert.equal(stream.ends.localPort, undefined);
      socket.write('over UNIX');
      await waitFor(() => recorder.text() === 'over UNIX', { message: 'the read' });
    }, { kind: 'unix', path: dir.file('stream.sock') });
  } finally {
    dir.remove();
  }
});

test('under --pending-deprecation with --throw-deprecation (process.binding() would crash the worker), plain connections are served on net.Sockets', async () => {
  const server = await startFetchApp([], { env: { NODE_OPTIONS: '--pending-deprecation --throw-deprecation' } });
  try {
    const { status, text } = await server.get('/context');
    assert.equal(status, 200);
    assert.equal(JSON.parse(text).remoteAddress, '127.0.0.1');
    const { responses } = await exchange(server.port, httpRequest('POST', '/echo', { body: 'once', headers: { Connection: 'close' } }));
    const [response] = responses;
    assert.equal(response.status, 200);
    assert.equal(JSON.parse(response.body.toString()).body, 'once');
    assert.doesNotMatch(server.stderr, /DeprecationWarning|DEP0111/);
  } finally {
    await server.stop();
  }
});
