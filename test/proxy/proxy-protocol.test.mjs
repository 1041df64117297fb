// --proxy-protocol: each connection begins with a PROXY header (v1 text or v2
// binary), read before the request (and before the TLS handshake under
// --ssl); the client it names is the address Fetch apps see in context and
// Node apps in req.starlight. Garbage, a v1 line over 107 bytes and a header
// not whole within --header-timeout close the connection, while a proper
// client is served meanwhile.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { RawConnection, parseResponses } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';
import { makeCertificates, opensslMissing } from '../tls/certs.mjs';

const FETCH_APP = fileURLToPath(new URL('../fixtures/proxy-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('../fixtures/proxy-node-app.mjs', import.meta.url));

const GET = 'GET /where HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n';
const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

/** A v2 header: `command` 0 LOCAL, 1 PROXY; `family` byte; the address block. */
function v2(command, family, addresses) {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | command;
  head[1] = family;
  head.writeUInt16BE(addresses.length, 2);
  return Buffer.concat([SIGNATURE, head, addresses]);
}

function v2Tcp4(source, sourcePort) {
  const block = Buffer.alloc(12);
  source.split('.').forEach((byte, i) => (block[i] = Number(byte)));
  block.set([127, 0, 0, 1], 4);
  block.writeUInt16BE(sourcePort, 8);
  block.writeUInt16BE(80, 10);
  return v2(1, 0x11, block);
}

function v2Tcp6(sourceBytes, sourcePort) {
  const block = Buffer.alloc(36);
  block.set(sourceBytes, 0);
  block[31] = 1; // destination ::1
  block.writeUInt16BE(sourcePort, 32);
  block.writeUInt16BE(443, 34);
  return v2(1, 0x21, block);
}

/** Sends `bytes` (in one write, or the pieces in turn) and returns the one JSON response, or null if closed without one. */
async function ask(port, ...pieces) {
  const connection = await RawConnection.connect(port);
  try {
    for (const piece of pieces) connection.write(piece);
    const closed = await connection.waitClosed(5000);
    assert.notEqual(closed, 'timeout', 'the server did not close');
    const { responses } = parseResponses(connection.data, { closed: true });
    return responses.length === 0 ? null : { status: responses[0].status, json: JSON.parse(responses[0].text) };
  } finally {
    connection.destroy();
  }
}

for (const [kind, app] of [['Fetch', FETCH_APP], ['Node', NODE_APP]]) {
  /** The client address the app saw. */
  const seen = (json) => (kind === 'Fetch' ? { address: json.remoteAddress, port: json.remotePort, family: json.remoteFamily } : json.starlight === null ? null : { address: json.starlight.remoteAddress, port: json.starlight.remotePort, family: json.starlight.remoteFamily });

  describe(`--proxy-protocol, ${kind} app`, () => {
    let server;
    before(async () => {
      server = await startServer(['--proxy-protocol', '--workers=1', '--header-timeout=1', app]);
    });
    after(() => server?.stop());

    it('v1 TCP4 and TCP6 headers name the client', async () => {
      const four = await ask(server.port, `PROXY TCP4 203.0.113.7 127.0.0.1 40001 80\r\n${GET}`);
      assert.deepEqual(seen(four.json), { address: '203.0.113.7', port: 40001, family: 'IPv4' });
      const six = await ask(server.port, 'PROXY TCP6 2001:db8::7 ::1 40002 80\r\n', GET);
      assert.deepEqual(seen(six.json), { address: '2001:db8::7', port: 40002, family: 'IPv6' });
      if (kind === 'Node') assert.equal(six.json.socketAddress, '127.0.0.1');
    });

    it('v2 PROXY TCP4 and TCP6 headers name the client; LOCAL and UNKNOWN keep the peer', async () => {
      const four = await ask(server.port, Buffer.concat([v2Tcp4('198.51.100.9', 5555), Buffer.from(GET)]));
      assert.deepEqual(seen(four.json), { address: '198.51.100.9', port: 5555, family: 'IPv4' });
      const address = Buffer.alloc(16);
      address.set([0x20, 0x01, 0x0d, 0xb8], 0);
      address[15] = 0x42;
      const six = await ask(server.port, v2Tcp6(address, 6666), GET);
      assert.deepEqual(seen(six.json), { address: '2001:db8::42', port: 6666, family: 'IPv6' });
      const local = await ask(server.port, Buffer.concat([v2(0, 0x00, Buffer.alloc(0)), Buffer.from(GET)]));
      const unknown = await ask(server.port, `PROXY UNKNOWN\r\n${GET}`);
      for (const response of [local, unknown]) {
        if (kind === 'Fetch') assert.equal(response.json.remoteAddress, '127.0.0.1');
        else assert.equal(response.json.starlight, null);
      }
    });

    it('a header split byte by byte is read whole', async () => {
      const header = v2Tcp4('192.0.2.1', 1234);
      const response = await ask(server.port, ...Array.from(header, (byte) => Buffer.of(byte)), GET);
      assert.deepEqual(seen(response.json), { address: '192.0.2.1', port: 1234, family: 'IPv4' });
    });

    it('garbage, a v1 line over 107 bytes, a malformed v1 line and a header past the deadline are closed without an answer; a client meanwhile is served', async () => {
      const slow = await RawConnection.connect(server.port);
      slow.write('PROXY TCP4 192.0.2.1');
      const refused = await Promise.all([
        ask(server.port, GET),
        ask(server.port, `PROXY TCP4 ${'1'.repeat(120)}\r\n${GET}`),
        ask(server.port, `PROXY TCP4 192.0.2.1 127.0.0.1 99999 80\r\n${GET}`),
        ask(server.port, Buffer.concat([SIGNATURE, Buffer.of(0x31, 0x11, 0, 0), Buffer.from(GET)])),
      ]);
      assert.deepEqual(refused, [null, null, null, null]);
      const served = await ask(server.port, `PROXY TCP4 192.0.2.2 127.0.0.1 1 80\r\n${GET}`);
      assert.equal(served.status, 200);
      assert.equal(await slow.waitClosed(3000), 'fin');
      assert.equal(slow.data.length, 0);
      slow.destroy();
    });
  });
}

/**
 * A TLS client whose first bytes on the wire are `header` and then its own (the ClientHello):
 * `together`, in one write, so one segment, as a proxy may send them; else the header alone,
 * a moment before. Resolves what the server sent over TLS until it closed.
 */
async function tlsAfterHeader(port, header, together, options) {
  const raw = net.connect(port, '127.0.0.1');
  raw.setNoDelay(true);
  await once(raw, 'connect');
  let pending = together ? Buffer.from(header) : null;
  if (!together) {
    raw.write(header);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // node:tls writes through this stream, so its first write can carry the header too.
  const wire = new Duplex({
    write(chunk, _encoding, done) {
      raw.write(pending === null ? chunk : Buffer.concat([pending, chunk]), done);
      pending = null;
    },
    read() {},
    final(done) {
      raw.end();
      done();
    },
  });
  raw.on('data', (chunk) => wire.push(chunk));
  raw.on('end', () => wire.push(null));
  const secure = tls.connect({ socket: wire, ...options });
  try {
    return await new Promise((resolve, reject) => {
      let text = '';
      secure.on('data', (chunk) => (text += chunk));
      secure.on('end', () => resolve(text));
      secure.on('error', reject);
      secure.write(GET);
    });
  } finally {
    secure.destroy();
    raw.destroy();
  }
}

const noOpenssl = opensslMissing();
describe('--proxy-protocol with --ssl: the header comes before the TLS handshake', { skip: noOpenssl ?? false }, () => {
  let certs;
  before(() => (certs = makeCertificates()));
  after(() => certs?.remove());

  for (const [kind, app] of [['Fetch', FETCH_APP], ['Node', NODE_APP]]) {
    // In one segment, what follows the header (the ClientHello) was once lost on its way to node:tls.
    it(`${kind} app: the header alone, then the handshake; the header and the ClientHello in one segment`, async () => {
      const server = await startServer(['--proxy-protocol', '--ssl', `--ssl-key-file=${certs.file('server.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`, '--workers=1', app]);
      try {
        for (const together of [false, true, true, true]) {
          const text = await tlsAfterHeader(server.port, 'PROXY TCP4 203.0.113.50 127.0.0.1 4321 443\r\n', together, { ca: certs.pem('ca.crt'), servername: 'localhost' });
          const json = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
          assert.equal(json.secure, true);
          if (kind === 'Fetch') assert.deepEqual([json.remoteAddress, json.url], ['203.0.113.50', 'https://example.test/where']);
          else assert.equal(json.starlight.remoteAddress, '203.0.113.50');
        }
      } finally {
        await server.stop();
      }
    });
  }
});
