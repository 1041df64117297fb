// Debian's nginx in front of starlight (test/deploy/): the site config that docs/deploy.md
// shows (siteConfig), and startNginx, which runs the real binary on a loopback port with that
// site inside a config of its own in a temporary folder (pid, logs and temp files there), and
// stops it by its pid. Importing this module has no side effect.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { freePort, waitAccepting } from './ports.mjs';
import { childPids } from './proc.mjs';
import { exitWithin } from './wait.mjs';

/** Debian's nginx binary, or null where the package is not installed. */
export const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((path) => existsSync(path)) ?? null;

/** Why the nginx tests skip here, or false when they run. */
export const nginxSkip = NGINX === null ? 'nginx is not installed (Debian package nginx; .ci/run installs it as root)' : false;

/**
 * The http-level part of the config: an upstream with keep-alive connections to starlight at
 * `upstream` (`127.0.0.1:PORT` or `unix:/path/to/socket`) and a server on `listen` passing every
 * request to it. docs/deploy.md shows exactly this text.
 */
export function siteConfig(upstream, listen) {
  return `upstream starlight {
    server ${upstream};
    keepalive 16;                 # idle connections to starlight kept open, per nginx worker
    keepalive_timeout 4s;         # below starlight's --keepalive-timeout (5 s): nginx closes first
}

server {
    listen ${listen};

    location / {
        proxy_pass http://starlight;
        proxy_http_version 1.1;   # keep-alive to the upstream needs HTTP/1.1 ...
        proxy_set_header Connection "";   # ... and no "Connection: close" from nginx
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
`;
}

/**
 * Starts nginx in the folder `dir` (a tempDir()) in front of `upstream`, on a free loopback
 * port, and resolves once that port accepts connections: { pid, port, stderr, stop() }.
 * stop() sends QUIT (graceful) to the pid it spawned, KILL after 5 s, then KILL to any worker left.
 */
export async function startNginx(dir, upstream) {
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const config = `${root ? 'user root;\n' : ''}worker_processes 1;
pid ${dir.file('nginx.pid')};
error_log ${dir.file('error.log')};
events { worker_connections 256; }
http {
access_log ${dir.file('access.log')};
client_body_temp_path ${dir.file('body')};
proxy_temp_path ${dir.file('proxy')};
fastcgi_temp_path ${dir.file('fastcgi')};
uwsgi_temp_path ${dir.file('uwsgi')};
scgi_temp_path ${dir.file('scgi')};
${siteConfig(upstream, `127.0.0.1:${port}`)}}
`;
  writeFileSync(dir.file('nginx.conf'), config);
  const child = spawn(NGINX, ['-p', `${dir.path}/`, '-e', 'stderr', '-c', dir.file('nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = null;
  exited.then((exit) => (gone = exit));
  const workers = new Set();
  const stop = async () => {
    for (const pid of childPids(child.pid)) workers.add(pid);
    if (gone === null) child.kill('SIGQUIT');
    if ((await exitWithin(exited, 5000)) === null) child.kill('SIGKILL');
    await exited;
    for (const pid of workers) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited with its master
      }
    }
  };
  try {
    await waitAccepting(port, {
      exited: () => gone !== null && `nginx exited (${gone.code ?? gone.signal}):\n${stderr}`,
      what: () => `nginx accepting on 127.0.0.1:${port}; stderr:\n${stderr}`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: child.pid, port, get stderr() { return stderr; }, stop };
}
