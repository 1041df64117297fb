// The platform's Request (--no-fast-fetch) under load: made with its signal in
// its init, each Request stayed registered with that signal until a full
// garbage collection, and a worker's heap grew with every request served
// (src/fetch/request.ts, platformRequest()). Here 160,000 requests after
// 20,000 of warm-up, pipelined on four connections, may leave the heap at most
// HEAP_GROWTH_MIB larger: garbage not yet collected comes and goes (measured
// -5 to +24 MiB after 100,000), where before it grew by some 1.5 KiB a request
// (+146 MiB after 100,000).
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { count } from '../helpers/fetch-app.mjs';
import { startServer } from '../helpers/server.mjs';

const APP = fileURLToPath(new URL('../fixtures/signal-heap-app.mjs', import.meta.url));
const HEAP_GROWTH_MIB = 60;
const PER_WRITE = 1000;
/** How each answer begins; a read may end inside one, so its last bytes are kept for the next. */
const ANSWER = 'HTTP/1.1 200 ';

let server;
before(async () => {
  server = await startServer(['--workers=0', '--no-fast-fetch', APP]);
});
after(() => server?.stop());

/** `requests` pipelined GETs of / on one connection, resolved once every answer (a 200 each) has come. */
function pipelined(requests) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answered = 0;
    let carry = '';
    socket.on('data', (data) => {
      const text = carry + data.toString('latin1');
      answered += count(text, ANSWER);
      carry = text.slice(1 - ANSWER.length);
      if (answered >= requests) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => answered < requests && reject(new Error(`closed after ${answered} of ${requests} answers`)));
    socket.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(requests));
  });
}

async function serve(requests) {
  for (let sent = 0; sent < requests; sent += 4 * PER_WRITE) await Promise.all([0, 1, 2, 3].map(() => pipelined(PER_WRITE)));
}

const heapMiB = async () => Number(await (await fetch(server.url('/heap'))).text()) / 2 ** 20;

test('--no-fast-fetch: a request\'s signal does not keep memory after its response', { timeout: 60_000 }, async () => {
  await serve(20_000);
  const before = await heapMiB();
  await serve(160_000);
  const after = await heapMiB();
  assert.ok(after - before < HEAP_GROWTH_MIB, `the heap grew from ${before.toFixed(1)} to ${after.toFixed(1)} MiB over 160,000 requests`);
});
