// Debian's HAProxy in front of starlight (test/deploy/): the config that docs/deploy.md shows
// (haproxyConfig), and startHaproxy, which runs the real binary in the foreground (-db, so the
// pid it spawned is HAProxy itself) with that config under a global section of its own (one
// thread, log lines on stderr, an admin socket in the test's temporary folder), on a loopback
// port, and stops it by its pid. serverStates() reads, over that socket, which servers HAProxy's
// health checks have up. Importing this module has no side effect.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { freePort, waitAccepting } from './ports.mjs';
import { exitWithin, waitFor } from './wait.mjs';

/** Debian's haproxy binary, or null where the package is not installed. */
export const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((path) => existsSync(path)) ?? null;

/** Why the HAProxy tests skip here, or false when they run. */
export const haproxySkip = HAPROXY === null ? 'HAProxy is not installed (Debian package haproxy; .ci/run installs it as root)' : false;

/**
 * The defaults, frontend and backend sections: HAProxy on `bind` in front of starlight at each
 * of `servers` ('ADDRESS:PORT'), each started with --proxy-protocol. docs/deploy.md shows
 * exactly this text.
 */
export function haproxyConfig(bind, servers) {
  return `defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s                # longer than the app's slowest answer
    timeout http-keep-alive 4s        # idle client connections

frontend www
    bind ${bind}
    default_backend starlight

backend starlight
    balance roundrobin
    # Health checks: GET /health (any path the app answers 200 to, cheaply) every 500 ms, with a
    # PROXY v2 header as on every connection starlight reads under --proxy-protocol. A stopping
    # starlight closes its listening socket at once: the first refused check takes it out, and
    # two good checks in a row bring a started one in.
    option httpchk
    http-check send meth GET uri /health ver HTTP/1.1 hdr Host starlight
    http-check expect status 200
    default-server check inter 500ms fall 1 rise 2 check-send-proxy send-proxy-v2
    # Until a check sees it, a stopping instance still gets requests. One that starlight never
    # read is sent again, to another server:
    # - conn-failure: its connection was refused (the listening socket is closed);
    # - empty-response: its connection closed before any answer: one still in the listening
    #   socket's queue when starlight closed it, or an idle keep-alive connection that starlight
    #   closed as it stopped, just as HAProxy sent the next request on it.
    # A stopping starlight answers every request it has read before it closes the connection.
    retry-on conn-failure empty-response
    retries 3
    option redispatch 1               # every retry goes to another server
${servers.map((address, i) => `    server app${i + 1} ${address}\n`).join('')}`;
}

/**
 * Starts HAProxy in the folder `dir` (a tempDir()) in front of `servers`, on a free port of
 * 127.0.0.1, and resolves once that port accepts connections: { pid, port, stderr, states(),
 * stop() }. states(): serverStates() of its backend. stop(): TERM to the pid it spawned, KILL after 5 s.
 */
export async function startHaproxy(dir, servers) {
  const port = await freePort();
  const socket = dir.file('haproxy.sock');
  const config = `global
    nbthread 1
    log stderr format raw local0 info
    stats socket ${socket} level admin

${haproxyConfig(`127.0.0.1:${port}`, servers)}`;
  writeFileSync(dir.file('haproxy.cfg'), config);
  const child = spawn(HAPROXY, ['-db', '-f', dir.file('haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = null;
  exited.then((exit) => (gone = exit));
  const stop = async () => {
    if (gone === null) child.kill('SIGTERM');
    if ((await exitWithin(exited, 5000)) === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await waitAccepting(port, {
      exited: () => gone !== null && `HAProxy exited (${gone.code ?? gone.signal}):\n${stderr}`,
      what: () => `HAProxy accepting on 127.0.0.1:${port}; stderr:\n${stderr}`,
    });
    // The admin socket is made beside the port, not always before it.
    await waitFor(() => existsSync(socket), { message: () => `HAProxy's admin socket ${socket}; stderr:\n${stderr}` });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid, port, get stderr() { return stderr; }, states: () => serverStates(socket), stop };
}

/** The status ('UP', 'DOWN', ...) of each server of backend starlight, by name, from the admin socket at `path`. */
export function serverStates(path) {
  return new Promise((resolve, reject) => {
    let text = '';
    const connection = net.connect(path, () => connection.end('show stat\n'));
    connection.setEncoding('utf8');
    connection.on('data', (d) => (text += d));
    connection.on('error', reject);
    connection.on('end', () => {
      const [head, ...rows] = text.trim().split('\n');
      const columns = head.replace(/^# /, '').split(',');
      const states = {};
      for (const row of rows) {
        const fields = Object.fromEntries(row.split(',').map((value, i) => [columns[i], value]));
        if (fields.pxname === 'starlight' && fields.svname !== 'BACKEND') states[fields.svname] = fields.status;
      }
      resolve(states);
    });
  });
}
