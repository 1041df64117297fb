// The soak's Node app: bench/apps/node's four (req, res) apps behind one server, chosen by the
// path (/json, /echo, /headers; anything else is plaintext), as the bench workloads ask for them,
// and /soak/memory: the worker's live memory (memory.mjs).
import echo from '../../bench/apps/node/echo.mjs';
import headers from '../../bench/apps/node/headers.mjs';
import json from '../../bench/apps/node/json.mjs';
import plaintext from '../../bench/apps/node/plaintext.mjs';
import { liveMemory } from './memory.mjs';

const routes = {
  '/json': json,
  '/echo': echo,
  '/headers': headers,
  '/soak/memory': (req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(liveMemory()));
  },
};

export default function soak(req, res) {
  const path = req.url.split('?', 1)[0];
  return (routes[path] ?? plaintext)(req, res);
}
