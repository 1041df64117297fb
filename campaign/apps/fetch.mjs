// The soak's Fetch app: bench/apps/fetch's four apps behind one server, chosen by the path
// (/json, /echo, /headers; anything else is plaintext), as the bench workloads ask for them, and
// /soak/memory: the worker's live memory (memory.mjs).
import echo from '../../bench/apps/fetch/echo.mjs';
import headers from '../../bench/apps/fetch/headers.mjs';
import json from '../../bench/apps/fetch/json.mjs';
import plaintext from '../../bench/apps/fetch/plaintext.mjs';
import { liveMemory } from './memory.mjs';

const routes = { '/json': json, '/echo': echo, '/headers': headers, '/soak/memory': { fetch: () => Response.json(liveMemory()) } };

export default {
  fetch(request, context) {
    const path = new URL(request.url).pathname;
    return (routes[path] ?? plaintext).fetch(request, context);
  },
};
