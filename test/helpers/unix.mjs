// Requests over UNIX sockets (test/listen/). Importing this module has no side effect.
import { request } from 'node:http';

/** One GET over a UNIX socket (`path`, or '\0name' for an abstract one); resolves { status, json }. */
export function unixGet(socketPath, path = '/') {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'app.test', connection: 'close' }, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(body) }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}
