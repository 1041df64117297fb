// Starts bin/starlight.js as a child process for a test, waits for its banner
// and tells the port; stop() ends it by its pid (SIGTERM, then SIGKILL).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/starlight.js', import.meta.url));

/**
 * @param {string[]} args  starlight arguments (the app file among them)
 * @param {{ env?: Record<string,string>, cwd?: string, timeoutMs?: number, node?: string }} [opts]
 */
export async function startServer(args, opts = {}) {
  const child = spawn(opts.node ?? process.execPath, [BIN, '--host=127.0.0.1', '--port=0', ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${opts.timeoutMs ?? 10000} ms; stderr:\n${stderr}`)), opts.timeoutMs ?? 10000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /Accepting connections at http:\/\/[^\s]*:(\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`starlight exited (${code ?? signal}) before its banner; stderr:\n${stderr}`));
    });
  });
  return {
    port,
    pid: child.pid,
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}
