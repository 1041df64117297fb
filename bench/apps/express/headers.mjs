// headers as an Express 5 app: X-Request-Id copied, Cache-Control and two cookies set.
import express from 'express';

const app = express();
app.disable('etag');
app.disable('x-powered-by');
app.get('/headers', (req, res) => {
  res.set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Request-Id': req.get('x-request-id') ?? '' });
  res.append('Set-Cookie', ['sid=abc123; Path=/; HttpOnly', 'theme=dark; Path=/; Max-Age=3600']);
  res.send('Hello, World!');
});
export default app;
