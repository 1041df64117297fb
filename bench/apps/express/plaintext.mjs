// plaintext (also pipelined and no-keepalive) as an Express 5 app: one route. ETag and
// X-Powered-By are off so that its answer is the same as the other apps'.
import express from 'express';

const app = express();
app.disable('etag');
app.disable('x-powered-by');
app.get('/', (req, res) => res.type('text/plain; charset=utf-8').send('Hello, World!'));
export default app;
