// What one access log line costs (after npm run build): the Fetch engine's logging path
// (http/access.ts's ExchangeLog into log/access-log.ts's AccessLog) given the same
// keep-alive request again and again, TURN lines a turn of the event loop (each turn's lines
// in one write), to a file or to stderr. Prints the CPU time (user + system) per line: the
// median of 5 runs of 500,000 lines, less that of the same loop logging nothing.
//
//   node bench/access-log.mjs [FILE|-] [TURN]     (default: a file in the temp folder, 35)
//   e.g. taskset -c 1 node bench/access-log.mjs - 35 2> >(cat > /dev/null)   (a pipe)
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExchangeLog } from '../dist/http/access.js';
import { compileAccessFormat } from '../dist/log/access-format.js';
import { AccessLog } from '../dist/log/access-log.js';
import { median } from './workloads.mjs';

const temporary = join(tmpdir(), `starlight-access-bench-${process.pid}.log`);
const target = process.argv[2] ?? temporary;
const turn = Number(process.argv[3] ?? 35);
const LINES = 500_000;

// What ExchangeLog reads of an exchange: a request as the parser gives it (get() makes a new
// string of the value each call, as the parser's does), with a browser's User-Agent.
const userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
const head = {
  method: 'GET',
  target: '/',
  minor: 1,
  get: (lowerName) => (lowerName === 'user-agent' ? ` ${userAgent}`.slice(1) : null),
};
const addresses = { remoteAddress: '127.0.0.1', localAddress: '127.0.0.1', localPort: 8080 };
const exchanges = Array.from({ length: turn }, () => ({ addresses, head, requestLine: 'GET / HTTP/1.1', status: 200, bytesSent: 13, fields: null, startedAt: 0 }));

const log = new ExchangeLog(new AccessLog(target, compileAccessFormat('combined', { worker: 0, pid: process.pid })));
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** CPU ns per line of LINES lines, logged (or not) `turn` a turn. */
async function run(logging) {
  const start = process.cpuUsage();
  for (let i = 0; i < LINES; i += turn) {
    if (logging) for (const exchange of exchanges) log.exchange(exchange);
    await nextTurn();
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / LINES;
}

await run(true);
await run(false);
const logged = [];
const bare = [];
for (let i = 0; i < 5; i++) {
  logged.push(await run(true));
  bare.push(await run(false));
}
if (target === temporary) rmSync(temporary, { force: true });
console.log(`access log, combined, ${turn} lines a turn, to ${target === '-' ? 'stderr' : 'a file'}: ${Math.round(median(logged) - median(bare))} ns of CPU a line`);
