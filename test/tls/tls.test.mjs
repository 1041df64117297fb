// TLS (--ssl): HTTPS with keep-alive through real servers, Fetch and Node
// apps, with and without workers; ALPN http/1.1; the scheme and context the
// app sees; client certificates under --ssl-verify-mode 0, 1 and 3, and the CA
// names of --ssl-client-ca-file in the certificate request (as openssl
// s_client shows it); the handshake deadline (a silent client and one that
// trickles its ClientHello are closed, while a real client is served); and a
// start refused for a missing key or a key that does not match its certificate.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startServer } from '../helpers/server.mjs';
import { settle, sleep } from '../helpers/wait.mjs';
import { makeCertificates, opensslMissing } from './certs.mjs';

const FETCH_APP = fileURLToPath(new URL('../fixtures/tls-app.mjs', import.meta.url));
const NODE_APP = fileURLToPath(new URL('../fixtures/tls-node-app.mjs', import.meta.url));
const skip = opensslMissing() ?? false;

let certs;
before(() => {
  if (!skip) certs = makeCertificates();
});
after(() => certs?.remove());

const sslArgs = (...more) => ['--ssl', `--ssl-key-file=${certs.file('server.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`, ...more];

/**
 * An HTTPS request trusting the test CA; `client` names the client
 * certificate to present (none by default). Resolves with the status, the
 * parsed JSON body, the ALPN protocol and whether the socket was reused.
 */
function https(port, { path = '/', method = 'GET', body, agent, client, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        path,
        method,
        ca: certs.pem('ca.crt'),
        ...(client === undefined ? {} : { key: certs.pem(`${client}.key`), cert: certs.pem(`${client}.crt`) }),
        agent: agent ?? false,
        ALPNProtocols: ['http/1.1'],
        timeout: 10000,
      },
      (res) => {
        const alpn = res.socket.alpnProtocol;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text), alpn, reused: req.reusedSocket }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** `openssl s_client` against the server, no client certificate; its output. */
function sClient(port) {
  return new Promise((resolve) => {
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', certs.file('ca.crt')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
    // Say nothing, wait for the server's word, then hang up.
    setTimeout(() => child.stdin.end(), 1000);
  });
}

describe('HTTPS through a real server', { skip }, () => {
  for (const [kind, app] of [['Fetch', FETCH_APP], ['Node', NODE_APP]]) {
    for (const workers of [1, 0]) {
      test(`${kind} app, --workers=${workers}: GET and POST on one keep-alive connection, ALPN http/1.1, https: URL, context.secure`, async () => {
        const server = await startServer([...sslArgs(), `--workers=${workers}`, app]);
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          assert.match(server.stderr, /Accepting connections at https:\/\/127\.0\.0\.1:\d+\//);
          const first = await https(server.port, { path: '/a?x=1', agent });
          assert.equal(first.status, 200);
          assert.equal(first.alpn, 'http/1.1');
          assert.deepEqual(first.json, { url: `https://127.0.0.1:${server.port}/a?x=1`, secure: true, peer: null, verified: false, body: null });
          const posted = await https(server.port, { path: '/b', method: 'POST', body: 'hello over tls', agent });
          assert.deepEqual(posted.json, { url: `https://127.0.0.1:${server.port}/b`, secure: true, peer: null, verified: false, body: 'hello over tls' });
          assert.equal(posted.reused, true, 'the second request went on the same connection');
          const named = await https(server.port, { path: '/c', host: 'localhost', agent });
          assert.equal(named.json.url, `https://localhost:${server.port}/c`);
        } finally {
          agent.destroy();
          await server.stop();
        }
      });
    }
  }

  test('a plain HTTP request on the TLS port is not served', async () => {
    const server = await startServer([...sslArgs(), '--workers=0', FETCH_APP]);
    try {
      const result = await settle(fetch(`http://127.0.0.1:${server.port}/`, { signal: AbortSignal.timeout(5000) }));
      assert.ok(result.error !== undefined, 'no HTTP answer');
    } finally {
      await server.stop();
    }
  });
});

describe('client certificates (--ssl-verify-mode)', { skip }, () => {
  test('0: none is asked for; a certificate the client would give is not seen', async () => {
    const server = await startServer([...sslArgs(`--ssl-ca-file=${certs.file('ca.crt')}`), '--workers=1', FETCH_APP]);
    try {
      const result = await https(server.port, { client: 'client' });
      assert.equal(result.json.peer, null);
      assert.doesNotMatch(await sClient(server.port), /Acceptable client certificate CA names/);
    } finally {
      await server.stop();
    }
  });

  for (const [kind, app, workers] of [['Fetch', FETCH_APP, 1], ['Node', NODE_APP, 0]]) {
    test(`1 (${kind} app): one is asked for; the app sees it and whether it was verified; without one the client is served too`, async () => {
      const server = await startServer([...sslArgs(`--ssl-ca-file=${certs.file('ca.crt')}`, '--ssl-verify-mode=1'), `--workers=${workers}`, app]);
      try {
        const verified = (await https(server.port, { client: 'client' })).json;
        assert.deepEqual([verified.peer, verified.verified], ['client one', true]);
        const stranger = (await https(server.port, { client: 'stranger' })).json;
        assert.deepEqual([stranger.peer, stranger.verified], ['stranger', false]);
        const without = await https(server.port);
        assert.equal(without.status, 200);
        assert.deepEqual([without.json.peer, without.json.verified], [null, false]);
      } finally {
        await server.stop();
      }
    });

    test(`3 (${kind} app): one is required and verified against --ssl-ca-file; the request names --ssl-client-ca-file's CAs`, async () => {
      const args = sslArgs(`--ssl-ca-file=${certs.file('ca.crt')}`, `--ssl-client-ca-file=${certs.file('names-ca.crt')}`, '--ssl-verify-mode=3');
      const server = await startServer([...args, `--workers=${workers}`, app]);
      try {
        const served = await https(server.port, { client: 'client' });
        assert.equal(served.status, 200);
        assert.equal(served.json.peer, 'client one');
        const without = await settle(https(server.port));
        assert.ok(without.error !== undefined, 'a client without a certificate is refused');
        const stranger = await settle(https(server.port, { client: 'stranger' }));
        assert.ok(stranger.error !== undefined, 'a certificate of another CA is refused');
        const named = await settle(https(server.port, { client: 'named' }));
        assert.ok(named.error !== undefined, 'a certificate of a CA only named by --ssl-client-ca-file is refused');
        const shown = await sClient(server.port);
        assert.match(shown, /Acceptable client certificate CA names\n(.*\n)*?CN\s*=\s*Named Client CA/);
        // The server still serves after the refusals.
        assert.equal((await https(server.port, { client: 'client' })).status, 200);
      } finally {
        await server.stop();
      }
    });
  }
});

/** The first bytes a TLS client sends: its ClientHello, as a real client makes it. */
async function clientHello() {
  const capture = net.createServer();
  await new Promise((resolve) => capture.listen(0, '127.0.0.1', resolve));
  const bytes = new Promise((resolve) => capture.once('connection', (socket) => socket.once('data', (data) => (resolve(data), socket.destroy()))));
  const client = tls.connect({ port: capture.address().port, host: '127.0.0.1', rejectUnauthorized: false });
  client.on('error', () => {});
  const hello = await bytes;
  client.destroy();
  capture.close();
  return hello;
}

/** A TCP connection to the server; `closed` resolves when the server closes it. */
async function rawConnect(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => {});
  socket.resume();
  const closed = new Promise((resolve) => socket.once('close', resolve));
  return { socket, closed };
}

describe('the handshake deadline (--header-timeout)', { skip }, () => {
  for (const [kind, app] of [['Fetch', FETCH_APP], ['Node', NODE_APP]]) {
    test(`${kind} app: a silent client and one trickling its ClientHello are closed after the deadline; a real client is served meanwhile`, async () => {
      const server = await startServer([...sslArgs(), '--workers=1', '--header-timeout=1', app]);
      const hello = await clientHello();
      const silent = await rawConnect(server.port);
      const trickler = await rawConnect(server.port);
      let sent = 0;
      let trickleClosed = false;
      void trickler.closed.then(() => (trickleClosed = true));
      const trickling = (async () => {
        // One byte every 100 ms: the whole ClientHello would take far longer than the deadline.
        while (!trickleClosed && sent < hello.length - 1) {
          trickler.socket.write(hello.subarray(sent, sent + 1));
          sent++;
          await sleep(100);
        }
      })();
      try {
        // Served while both hold their connections.
        const served = await https(server.port);
        assert.equal(served.status, 200);
        assert.equal(served.json.secure, true);
        const bound = (closed) => Promise.race([closed.then(() => true), sleep(6000).then(() => false)]);
        assert.equal(await bound(silent.closed), true, 'the silent connection was closed');
        assert.equal(await bound(trickler.closed), true, 'the trickling connection was closed');
        await trickling;
        assert.ok(sent < hello.length - 1, `closed while still trickling (${sent} of ${hello.length} bytes sent)`);
        assert.equal((await https(server.port)).status, 200);
      } finally {
        silent.socket.destroy();
        trickler.socket.destroy();
        await server.stop();
      }
    });
  }
});

describe('a start with bad TLS files is refused', { skip }, () => {
  const refused = async (args, exitCode, pattern) => {
    const server = await startServer([...args, '--workers=1', FETCH_APP], { wait: 'banner-or-exit' });
    await server.exited;
    assert.equal(server.serving, false, 'no banner');
    assert.equal(server.exit.code, exitCode, server.stderr);
    assert.match(server.stderr, pattern);
  };

  test('a missing key file: exit 1, naming it', async () => {
    const missing = certs.file('no-such.key');
    await refused(['--ssl', `--ssl-key-file=${missing}`, `--ssl-cert-file=${certs.file('server.crt')}`], 1, new RegExp(`--ssl-key-file=${missing}: cannot read it`));
  });

  test('a key that does not match the certificate: exit 1, naming both files', async () => {
    await refused(
      ['--ssl', `--ssl-key-file=${certs.file('client.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`],
      1,
      /--ssl-key-file=\S*client\.key and --ssl-cert-file=\S*server\.crt: the key does not match the certificate/,
    );
  });

  test('--ssl without its files, or --ssl-* without --ssl: exit 2', async () => {
    await refused(['--ssl'], 2, /--ssl needs --ssl-key-file=FILE and --ssl-cert-file=FILE/);
    await refused([`--ssl-key-file=${certs.file('server.key')}`], 2, /the --ssl-\* options need --ssl/);
  });

  test('with --workers=0 too', async () => {
    const server = await startServer(['--ssl', `--ssl-key-file=${certs.file('ca.key')}`, `--ssl-cert-file=${certs.file('server.crt')}`, '--workers=0', FETCH_APP], { wait: 'banner-or-exit' });
    await server.exited;
    assert.equal(server.serving, false);
    assert.equal(server.exit.code, 1);
    assert.match(server.stderr, /the key does not match the certificate/);
  });
});
