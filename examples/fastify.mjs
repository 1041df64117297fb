// A Fastify 5 app: `starlight examples/fastify.mjs` (with `npm install fastify
// @fastify/cookie`), then open http://localhost:5000/. Fastify owns its server;
// its documented way to bring your own is the `serverFactory` option, which is
// handed Fastify's (req, res) handler: the factory keeps that handler, returns a
// node:http server that never listens (Fastify only asks it for its address and
// close()), and the handler is the default export, once `ready()` has loaded
// the plugins and routes. starlight never calls listen().
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws).
import { createServer } from 'node:http';
import { Readable } from 'node:stream';
import cookie from '@fastify/cookie';
import Fastify from 'fastify';

let handler;
const app = Fastify({
  serverFactory(fastifyHandler) {
    handler = fastifyHandler;
    return createServer();
  },
});
await app.register(cookie);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function* numberedChunks(chunks, gap) {
  for (let i = 1; i <= chunks; i++) {
    if (i > 1) await sleep(gap);
    yield `chunk ${i}\n`;
  }
}

app.get('/', async (request) => `Hello from Fastify on starlight (pid ${process.pid}): ${request.method} ${request.url}\n`);
app.get('/users/:id', async (request) => ({ id: request.params.id, pid: process.pid }));
app.post('/echo', async (request) => ({ received: request.body }));
// A stream is piped to the response: each chunk it gives goes out as one chunk of a chunked response.
app.get('/stream', (request, reply) => {
  reply.type('text/plain').send(Readable.from(numberedChunks(Number(request.query.chunks ?? 3), Number(request.query.gap ?? 20))));
});
app.get('/cookies', async (request, reply) => {
  reply.setCookie('visits', '1', { httpOnly: true, path: '/' });
  reply.setCookie('theme', 'dark', { path: '/' });
  return { session: request.cookies.session ?? null };
});
// Fastify's own error handler answers 500 with a JSON body.
app.get('/fail', async () => {
  throw new Error('this route fails');
});

await app.ready();

export default handler;
