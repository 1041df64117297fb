// --forwarded-allow-ips: X-Forwarded-For/-Proto/-Host and RFC 7239 Forwarded
// are believed only from the listed peers (the connection's peer, after a
// PROXY header if any). Then a Fetch app sees the client's address in context
// and the scheme and host in request.url, a Node app in req.starlight (its
// req.socket.remoteAddress stays the peer's); from other peers the fields
// reach the app as received and change nothing.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RawConnection, parseResponses } from '../helpers/raw.mjs';
import { startServer } from '../helpers/server.mjs';

const FETCH_APP = fileURLToPath(new URL('../fixtures/proxy-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('../fixtures/proxy-node-app.mjs', import.meta.url));

const request = (fields, prefix = '') => `${prefix}GET /where HTTP/1.1\r\nHost: example.test\r\n${fields.map((field) => `${field}\r\n`).join('')}Connection: close\r\n\r\n`;

const X_FORWARDED = ['X-Forwarded-For: 203.0.113.1, 127.0.0.1', 'X-Forwarded-Proto: https', 'x-forwarded-host: app.example:8443'];
const FORWARDED = ['Forwarded: for=192.0.2.60;proto=https;host=shop.example, for="[2001:db8::1]:4711";proto=http', 'Forwarded: for=127.0.0.1'];

async function ask(port, bytes) {
  const connection = await RawConnection.connect(port);
  try {
    connection.write(bytes);
    assert.notEqual(await connection.waitClosed(5000), 'timeout');
    const { responses } = parseResponses(connection.data, { closed: true });
    assert.equal(responses.length, 1, connection.text);
    return JSON.parse(responses[0].text);
  } finally {
    connection.destroy();
  }
}

/** What the app saw: the client's address, port, family and the URL (Node: from req.starlight, null when absent). */
function seen(kind, json) {
  if (kind === 'Fetch') return { address: json.remoteAddress, family: json.remoteFamily, url: json.url };
  assert.equal(json.socketAddress, '127.0.0.1');
  const facts = json.starlight;
  return facts === null ? null : { address: facts.remoteAddress, family: facts.remoteFamily, url: `${facts.scheme}://${facts.host ?? 'example.test'}/where` };
}

for (const [kind, app] of [['Fetch', FETCH_APP], ['Node', NODE_APP]]) {
  describe(`forwarding fields, ${kind} app`, () => {
    let trusting;
    let distrusting;
    before(async () => {
      [trusting, distrusting] = await Promise.all([
        startServer(['--workers=1', '--proxy-protocol=0', app]),
        startServer(['--workers=1', '--forwarded-allow-ips=10.9.9.9', app]),
      ]);
    });
    after(() => Promise.all([trusting?.stop(), distrusting?.stop()]));

    it('X-Forwarded-* from 127.0.0.1 (trusted by default): the right-most untrusted address, the scheme and host', async () => {
      assert.deepEqual(seen(kind, await ask(trusting.port, request(X_FORWARDED))), { address: '203.0.113.1', family: 'IPv4', url: 'https://app.example:8443/where' });
    });

    it('Forwarded from 127.0.0.1: the client node, and the scheme and host its proxy saw', async () => {
      const json = await ask(trusting.port, request(FORWARDED));
      assert.deepEqual(seen(kind, json), { address: '2001:db8::1', family: 'IPv6', url: 'http://example.test/where' });
      const first = await ask(trusting.port, request(['Forwarded: for=192.0.2.60;proto=https;host=shop.example']));
      assert.deepEqual(seen(kind, first), { address: '192.0.2.60', family: 'IPv4', url: 'https://shop.example/where' });
      if (kind === 'Fetch') assert.equal(json.remotePort, 4711);
    });

    it('a request without them is the connection\'s', async () => {
      const json = await ask(trusting.port, request([]));
      if (kind === 'Fetch') assert.deepEqual(seen(kind, json), { address: '127.0.0.1', family: 'IPv4', url: 'http://example.test/where' });
      else assert.equal(json.starlight, null);
    });

    it('from a peer not in --forwarded-allow-ips they are ignored', async () => {
      for (const fields of [X_FORWARDED, FORWARDED]) {
        const json = await ask(distrusting.port, request(fields));
        if (kind === 'Fetch') assert.deepEqual(seen(kind, json), { address: '127.0.0.1', family: 'IPv4', url: 'http://example.test/where' });
        else assert.equal(json.starlight, null);
      }
    });
  });
}

describe('forwarding fields behind a PROXY header: the peer is the client it names', () => {
  let server;
  before(async () => {
    server = await startServer(['--workers=1', '--proxy-protocol', '--forwarded-allow-ips=198.51.100.1', FETCH_APP]);
  });
  after(() => server?.stop());

  it('trusted when the named client is listed, ignored when not', async () => {
    // (127.0.0.1 is not listed here: the right-most untrusted address of X_FORWARDED would be it.)
    const fields = ['X-Forwarded-For: 203.0.113.1', ...X_FORWARDED.slice(1)];
    const trusted = await ask(server.port, request(fields, 'PROXY TCP4 198.51.100.1 127.0.0.1 1000 80\r\n'));
    assert.deepEqual([trusted.remoteAddress, trusted.url], ['203.0.113.1', 'https://app.example:8443/where']);
    const ignored = await ask(server.port, request(fields, 'PROXY TCP4 198.51.100.2 127.0.0.1 1000 80\r\n'));
    assert.deepEqual([ignored.remoteAddress, ignored.url], ['198.51.100.2', 'http://example.test/where']);
  });
});
