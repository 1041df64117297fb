// The multi-process baseline of `npm run bench -- --scaling`: a (req, res) app from
// bench/apps/node/ served by node:cluster with WORKERS processes, as Node's documentation
// shows it (the primary forks, each worker listens on the same port; on Linux the primary
// accepts and hands each connection to a worker in turn, cluster's default scheduling).
// Usage: node bench/node-cluster.mjs PORT APPFILE WORKERS (stops on SIGTERM).
import cluster from 'node:cluster';
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [port, file, workers] = process.argv.slice(2);
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const { default: handler } = await import(pathToFileURL(resolve(file)).href);
  http.createServer(handler).listen(Number(port), '127.0.0.1');
}
