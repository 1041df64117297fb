// WebSocket echo throughput: N clients (the `ws` client, in this process), each sending M
// messages of S bytes one after another (send, wait for the echo), against one serving
// process each of: starlight with a Fetch app (upgradeWebSocket()), starlight with a Node
// app (ws's handleUpgrade behind its `upgrade` export), and that same Node app on plain
// node:http (the baseline). Prints messages echoed per second, the best of R rounds; the
// servers run side by side and take their rounds in turn, so that a busy moment of the machine
// does not fall on one of them alone. The client and the servers are pinned to different CPUs
// where taskset allows.
// Usage: npm run build && node bench/websocket.mjs [--clients=N] [--messages=M] [--size=S] [--rounds=R]
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { freePort, onCpu, pinSelf, pinning, sleep, start, stopAll } from './proc.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => /^--([a-z]+)=(\d+)$/.exec(arg)?.slice(1) ?? usage(arg)));
function usage(arg) {
  console.error(`unknown argument ${arg}; usage: node bench/websocket.mjs [--clients=N] [--messages=M] [--size=S] [--rounds=R]`);
  process.exit(2);
}
const clients = Number(args.clients ?? 50);
const messages = Number(args.messages ?? 2000);
const size = Number(args.size ?? 64);
const rounds = Number(args.rounds ?? 3);

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const BIN = here('../bin/starlight.js');
const SERVERS = {
  'starlight, Fetch app (upgradeWebSocket)': (port) => [process.execPath, BIN, '--workers=0', '--host=127.0.0.1', `--port=${port}`, '--quiet', here('apps/websocket/fetch-echo.mjs')],
  'starlight, Node app (ws handleUpgrade)': (port) => [process.execPath, BIN, '--workers=0', '--host=127.0.0.1', `--port=${port}`, '--quiet', here('apps/websocket/node-echo.mjs')],
  'node:http + ws (baseline)': (port) => [process.execPath, here('node-http.mjs'), String(port), here('apps/websocket/node-echo.mjs')],
};

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Opens the clients (retrying while the server starts), then times M echoes on each. */
async function round(port) {
  const url = `ws://127.0.0.1:${port}/`;
  let sockets;
  for (let tries = 0; ; tries++) {
    try {
      sockets = await Promise.all(Array.from({ length: clients }, () => open(url)));
      break;
    } catch (error) {
      if (tries > 100) throw error;
      await sleep(100);
    }
  }
  const payload = Buffer.alloc(size, 'x');
  const began = process.hrtime.bigint();
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve, reject) => {
          let left = messages;
          ws.on('message', () => (--left === 0 ? resolve() : ws.send(payload)));
          ws.once('close', () => left > 0 && reject(new Error('closed early')));
          ws.send(payload);
        }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  for (const ws of sockets) ws.terminate();
  return (clients * messages) / seconds;
}

const cpus = pinning();
if (cpus !== null) pinSelf(cpus.client);
console.log(`${clients} clients x ${messages} messages of ${size} bytes, best of ${rounds}${cpus === null ? ' (not pinned)' : ', client and server on separate CPUs'}`);
try {
  const servers = [];
  for (const [name, argv] of Object.entries(SERVERS)) {
    const port = await freePort();
    start(onCpu(cpus?.server, argv(port)));
    servers.push({ name, port, best: 0 });
  }
  for (let r = 0; r < rounds; r++) {
    for (const server of servers) server.best = Math.max(server.best, await round(server.port));
  }
  for (const { name, best } of servers) console.log(`${name.padEnd(42)} ${Math.round(best).toLocaleString('en-US').padStart(10)} messages/s`);
} finally {
  await stopAll();
}
