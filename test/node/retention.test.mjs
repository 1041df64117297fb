// What a Node app's connection keeps between requests, in process: the server
// (dist/node/server.js) on a real listening socket, a raw client, and V8's gc.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { acceptOn, bindListeners } from '../../dist/listen/bind.js';
import { NodeAppServer } from '../../dist/node/server.js';
import { RawConnection, httpRequest } from '../helpers/raw.mjs';

const quiet = { info() {}, warn() {}, error() {} };

test('an idle keep-alive connection holds nothing of its last request and response', async () => {
  // Kept until the next request, they survived every young-generation GC and
  // were promoted: 13-14 MiB more peak RSS under the plaintext bench.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  const kept = [];
  const server = new NodeAppServer({
    listener(req, res) {
      kept.push(new WeakRef(req), new WeakRef(res));
      res.end('ok');
    },
    log: quiet,
    maxHeaderSize: 16384,
    maxHeaders: 100,
    maxBodySize: Infinity,
    headerTimeout: 60_000,
    keepaliveTimeout: 5_000,
    timeout: 300_000,
    maxKeepaliveRequests: 1000,
    serverSoftware: 'test',
    exposeErrors: false,
    counted() {},
  });
  const [listener] = await bindListeners([{ kind: 'tcp', host: '127.0.0.1', port: 0 }], { ipv6: false });
  acceptOn(listener.handle, 16, (client) => server.accept(client));
  const client = await RawConnection.connect(listener.port);
  try {
    client.write(httpRequest('GET', '/'));
    const { responses } = await client.responses(1);
    assert.equal(responses[0].text, 'ok');
    assert.equal(client.closed, null, 'the connection stays open, idle');
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve)); // WeakRefs hold their targets until the job ends
    gc();
    assert.deepEqual(kept.map((ref) => ref.deref()), [undefined, undefined]);
  } finally {
    client.destroy();
    server.destroy();
    listener.handle.close();
  }
});
