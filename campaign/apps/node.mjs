// The soak's Node app: bench/apps/node's four (req, res) apps behind one server, chosen by the
// path (/json, /echo, /headers; anything else is plaintext), as the bench workloads ask for them.
import echo from '../../bench/apps/node/echo.mjs';
import headers from '../../bench/apps/node/headers.mjs';
import json from '../../bench/apps/node/json.mjs';
import plaintext from '../../bench/apps/node/plaintext.mjs';

const routes = { '/json': json, '/echo': echo, '/headers': headers };

export default function soak(req, res) {
  const path = req.url.split('?', 1)[0];
  return (routes[path] ?? plaintext)(req, res);
}
