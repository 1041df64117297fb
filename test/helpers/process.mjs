// Helpers for test/process/: a keep-alive client on raw.mjs's connection, request
// loops that count failures (GETs, and POSTs through proxies), app files written
// into a temporary folder, a server wrapper that always cleans up (startServer's
// stop(): master by pid, then any worker left), and, re-exported, the /proc readers (proc.mjs) and
// the poller (wait.mjs). Importing this module has no side effect.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { childPids, cmdline, isAlive, livePids, newSockets, openSockets, procStat } from './proc.mjs';
import { RawConnection, httpRequest } from './raw.mjs';
import { startServer } from './server.mjs';
import { exitWithin, settle, sleep, waitFor } from './wait.mjs';

export const APP = fileURLToPath(new URL('../fixtures/process-app.mjs', import.meta.url));
export const APP_LIB = pathToFileURL(fileURLToPath(new URL('../fixtures/process-app-lib.mjs', import.meta.url))).href;

export { childPids, cmdline, exitWithin, isAlive, livePids, newSockets, openSockets, procStat, settle, sleep, waitFor };

// ---- processes ----------------------------------------------------------------

/** The master's children in state Z now. */
export function zombies(master) {
  return childPids(master).filter((pid) => procStat(pid)?.state === 'Z');
}

/**
 * Fails if a child of the master is a zombie and stays one for a second (an
 * exit being reaped at the very moment of the look, on a busy machine, is not
 * a zombie left behind; Starlight's B4 zombies stay forever).
 */
export async function assertNoZombies(master, what = '') {
  let left = zombies(master);
  const end = Date.now() + 1000;
  while (left.length > 0 && Date.now() < end) {
    await sleep(50);
    const now = zombies(master);
    left = left.filter((pid) => now.includes(pid));
  }
  if (left.length > 0) throw new Error(`zombie children of the master ${what}: ${left.join(', ')}`);
}

/** Waits until the master has exactly `n` live children and returns their pids. */
export function waitForWorkers(master, n, timeoutMs = 5000) {
  return waitFor(
    () => {
      const pids = livePids(master);
      return pids.length === n ? pids : null;
    },
    { timeoutMs, message: () => `${n} workers (have ${livePids(master).join(', ') || 'none'})` },
  );
}

// ---- a keep-alive client ----------------------------------------------------------

/**
 * One connection to 127.0.0.1:port, or to a UNIX socket where `port` is its path (raw.mjs's RawConnection, ending its side when the server
 * ends its own, as an ordinary client does); request() sends a GET and resolves with the response:
 * { status, headers (lower-case names), body (text), json (the body parsed, or null), close }.
 * `closed` resolves 'fin' or 'reset' once the connection is closed.
 */
export class Client {
  static async open(port, timeoutMs = 5000) {
    return new Client(await RawConnection.connect(port, { allowHalfOpen: false, timeoutMs }));
  }

  constructor(connection) {
    this.connection = connection;
    this.busy = false;
    // RawConnection's own 'close' listener, added first, has set its state by now.
    this.closed = new Promise((resolve) => connection.socket.once('close', () => resolve(connection.closed)));
  }

  /** GET `path`; `close` sends `Connection: close`. */
  async request(path = '/', { close = false, timeoutMs = 10000 } = {}) {
    const connection = this.connection;
    if (this.busy) throw new Error('one request at a time');
    if (connection.closed !== null || connection.socket.destroyed) throw new Error('the connection is closed');
    this.busy = true;
    try {
      connection.write(httpRequest('GET', path, { headers: { Host: '127.0.0.1', ...(close ? { Connection: 'close' } : {}) } }));
      const { responses, error } = await connection.responses(1, {}, timeoutMs);
      const [response] = responses;
      if (response === undefined) {
        const closed = connection.closed;
        connection.destroy();
        if (closed !== null) throw new Error(`the connection closed (${closed}) before the response was complete`);
        throw new Error(error === null ? `no response to ${path} within ${timeoutMs} ms` : `a malformed response: ${error}`);
      }
      connection.drop(response.end);
      let json = null;
      try {
        json = JSON.parse(response.text);
      } catch {
        // not from the app
      }
      const headers = Object.fromEntries(response.headers.map(([name, value]) => [name.toLowerCase(), value]));
      return { status: response.status, headers, body: response.text, json, close: response.close };
    } finally {
      this.busy = false;
    }
  }

  destroy() {
    this.connection.destroy();
  }
}

/** One request on a new connection (with `Connection: close`). */
export async function get(port, path = '/', timeoutMs = 10000) {
  const client = await Client.open(port, timeoutMs);
  try {
    return await client.request(path, { close: true, timeoutMs });
  } finally {
    client.destroy();
  }
}

/**
 * Request loops against the server (a port, or a UNIX socket's path: see
 * Client) until stop(): `keepAlive` loops that send request after request on
 * one connection (opening a new one after a `Connection: close` response), and
 * `oneShot` loops that open a connection per request. Any error or non-200
 * answer is a failure. stop() resolves with
 * { ok, failures: [messages], pids: Map(pid → count), versions: Set, addresses: Set, closes }
 * (addresses: the client addresses the app saw; closes: keep-alive connections
 * the server ended with `Connection: close`).
 * `watch` (optional) follows each request one by one (campaign/chaos.mjs): a request is
 * { worker, path, response?, error? }, where worker is the pid that last answered on its
 * connection (null on a new connection); watch.path(worker) picks its path (default `path`),
 * watch.sent(request) and watch.ended(request) are called around it, and a keep-alive loop
 * opens a new connection instead of using one whose worker watch.gone(worker) says is dead.
 */
export function startLoad(port, { keepAlive = 2, oneShot = 2, path = '/', pauseMs = 0, watch = {} } = {}) {
  const stats = { ok: 0, failures: [], pids: new Map(), versions: new Set(), addresses: new Set(), closes: 0, sequence: [] };
  let running = true;
  const note = (response) => {
    if (response.status !== 200 || response.json === null) {
      stats.failures.push(`status ${response.status}: ${response.body.slice(0, 200)}`);
      return;
    }
    stats.ok++;
    stats.pids.set(response.json.pid, (stats.pids.get(response.json.pid) ?? 0) + 1);
    stats.versions.add(response.json.version);
    stats.addresses.add(response.json.remoteAddress);
    stats.sequence.push(response.json.version);
  };
  /** One request of a loop: `send(path)` resolves the response; the watcher sees it go and end. */
  const attempt = async (worker, send) => {
    const request = { worker, path: watch.path?.(worker) ?? path };
    watch.sent?.(request);
    try {
      request.response = await send(request.path);
      note(request.response);
      return request.response;
    } catch (error) {
      request.error = error;
      throw error;
    } finally {
      watch.ended?.(request);
    }
  };
  const keepAliveLoop = async () => {
    let client = null;
    let worker = null;
    while (running) {
      if (client !== null && watch.gone?.(worker)) {
        client.destroy();
        client = null;
      }
      try {
        if (client === null) worker = null;
        // A request on a new connection is in flight from the moment the connection is opened:
        // the kernel completes it, and a worker may accept it, before the client hears of it.
        const response = await attempt(worker, async (requestPath) => {
          client ??= await Client.open(port);
          return client.request(requestPath);
        });
        worker = response.json?.pid ?? worker;
        if (response.close) {
          stats.closes++;
          client.destroy();
          client = null;
        }
      } catch (error) {
        stats.failures.push(`keep-alive: ${error.message}`);
        client?.destroy();
        client = null;
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
    client?.destroy();
  };
  const oneShotLoop = async () => {
    while (running) {
      try {
        await attempt(null, (requestPath) => get(port, requestPath));
      } catch (error) {
        stats.failures.push(`new connection: ${error.message}`);
      }
      if (pauseMs > 0) await sleep(pauseMs);
    }
  };
  const loops = [...Array.from({ length: keepAlive }, keepAliveLoop), ...Array.from({ length: oneShot }, oneShotLoop)];
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats;
    },
  };
}

/**
 * `loops` loops of POSTs (on fetch()'s pooled keep-alive connections) to 127.0.0.1:`port` until
 * stop(), which resolves `stats` { ok, failures, pids: Map(pid → count) }. A proxy sends a GET that failed
 * on a reused connection to its upstream again, which hides a connection the server cut; a POST
 * nginx does not repeat, so a cut one is an error answer there.
 */
export function startPosts(port, loops, path) {
  const stats = { ok: 0, failures: [], pids: new Map() };
  let running = true;
  const loop = async () => {
    while (running) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: 'form=data' });
        const body = await response.text();
        if (response.status === 200) {
          stats.ok++;
          const { pid } = JSON.parse(body);
          stats.pids.set(pid, (stats.pids.get(pid) ?? 0) + 1);
        } else stats.failures.push(`POST: status ${response.status}: ${body.slice(0, 200)}`);
      } catch (error) {
        stats.failures.push(`POST: ${error.message}`);
      }
    }
  };
  const looping = Array.from({ length: loops }, loop);
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(looping);
      return stats;
    },
  };
}

// ---- apps and servers ---------------------------------------------------------

/** A temporary folder; remove() deletes it. */
export function tempDir() {
  const path = mkdtempSync(join(tmpdir(), 'starlight-process-'));
  return { path, file: (name) => join(path, name), remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * App source for version `version` of the test app; `bootDelayMs` delays its
 * load; `throws` makes it fail to load; `node` makes it a Node (req, res) app.
 */
export function appSource(version, { bootDelayMs = 0, throws = null, node = false } = {}) {
  if (throws !== null) return `throw new Error(${JSON.stringify(throws)});\n`;
  const delay = bootDelayMs > 0 ? `await new Promise((resolve) => setTimeout(resolve, ${bootDelayMs}));\n` : '';
  const make = node ? 'makeNodeApp' : 'makeApp';
  return `import { ${make} } from ${JSON.stringify(APP_LIB)};\n${delay}export default ${make}(${JSON.stringify(version)});\n`;
}

export function writeApp(file, version, options) {
  writeFileSync(file, appSource(version, options));
}

/**
 * Starts starlight (startServer, allowing 15 s for the banner), runs
 * `fn(server)`, and always stops it: the master by its pid (TERM, then KILL),
 * then any worker still alive by its pid.
 */
export async function withServer(args, opts, fn) {
  const server = await startServer(args, { timeoutMs: 15000, ...opts });
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Requests on new connections until `n` different worker pids answered; returns the pids. */
export async function seenWorkers(port, n, timeoutMs = 5000) {
  const pids = new Set();
  await waitFor(
    async () => {
      pids.add((await get(port)).json.pid);
      return pids.size >= n;
    },
    { timeoutMs, intervalMs: 0, message: () => `${n} workers answering (saw ${[...pids].join(', ')})` },
  );
  return [...pids];
}

/**
 * A keep-alive Client on each of `pids` (the workers; the kernel deals connections, in no set
 * order): connections are opened, 8 at a time, until each worker holds one, and the others are
 * closed. Resolves a Map pid → Client.
 */
export async function clientOnEachWorker(port, pids, timeoutMs = 10000) {
  const held = new Map();
  await waitFor(
    async () => {
      const opened = await Promise.all(Array.from({ length: 8 }, () => Client.open(port)));
      for (const client of opened) {
        const { pid } = (await client.request('/')).json;
        if (pids.includes(pid) && !held.has(pid)) held.set(pid, client);
        else client.destroy();
      }
      return held.size === pids.length;
    },
    { timeoutMs, intervalMs: 0, message: () => `a connection on each of ${pids.join(', ')} (have ${[...held.keys()].join(', ')})` },
  );
  return held;
}

/** A privileged port free on 127.0.0.1 (80 and 81 may be taken by a real server here). */
export function privilegedPort() {
  const probe = `const s=require('net').createServer();const ports=[81,...Array.from({length:200},(_, i)=>800+i)];` +
    `(function next(){const p=ports.shift();s.once('error',next);s.listen(p,'127.0.0.1',()=>{console.log(p);s.close()})})()`;
  return Number(spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' }).stdout.trim());
}

// ---- USR2: masters that are not the test's children ----------------------------------

/** The pid a pid file names (null: no file, or not a number yet). */
export function readPid(file) {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** The pid of the new master a USR2'd master's log names (null if none yet). */
export function newMasterIn(log) {
  const found = /SIGUSR2: starting a new master \(pid (\d+)\)/.exec(log);
  return found === null ? null : Number(found[1]);
}

/** Stops a master this test did not start by its pid: TERM, KILL after 5 s, then KILL its workers left. */
export async function stopMasterByPid(pid) {
  if (pid === null || !isAlive(pid)) return;
  const workers = livePids(pid);
  process.kill(pid, 'SIGTERM');
  const exited = await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `master ${pid} exiting` }).catch(() => false);
  if (!exited && isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const worker of workers) if (isAlive(worker)) process.kill(worker, 'SIGKILL');
}
