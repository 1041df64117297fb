// TCP listeners without --host (SPEC §1.3): dual-stack `::` by default, `0.0.0.0` only with
// --ipv6=0. Real processes; connections on 127.0.0.1 and ::1 only.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { APP } from '../helpers/process.mjs';
import { startServer } from '../helpers/server.mjs';

/** 'connected' or the error code of a connection to host:port. */
function tryConnect(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error) => resolve(error.code));
  });
}

const hasIPv6 = await new Promise((resolve) => {
  const probe = net.createServer().once('error', () => resolve(false)).listen(0, '::1', () => probe.close(() => resolve(true)));
});

describe('all interfaces', { skip: hasIPv6 ? false : 'this machine has no IPv6 loopback' }, () => {
  test('by default the port is bound dual-stack on ::: IPv4 and IPv6 clients connect', async () => {
    const server = await startServer(['--workers=1', '--port=0', APP], { listen: false, timeoutMs: 15000 });
    try {
      assert.equal(server.host, '[::]', server.stderr);
      assert.equal(await tryConnect('127.0.0.1', server.port), 'connected');
      assert.equal(await tryConnect('::1', server.port), 'connected');
    } finally {
      await server.stop();
    }
  });

  test('--ipv6=0 binds 0.0.0.0 only: IPv6 clients are refused', async () => {
    const server = await startServer(['--workers=1', '--port=0', '--ipv6=0', APP], { listen: false, timeoutMs: 15000 });
    try {
      assert.equal(server.host, '0.0.0.0', server.stderr);
      assert.equal(await tryConnect('127.0.0.1', server.port), 'connected');
      assert.equal(await tryConnect('::1', server.port), 'ECONNREFUSED');
    } finally {
      await server.stop();
    }
  });
});
