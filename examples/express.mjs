// An Express 5 app, served as it is: `starlight examples/express.mjs` (with
// `npm install express cookie-parser`), then open http://localhost:5000/. The
// default export is the app itself, a (req, res) function; starlight never calls listen().
//
// Its routes are those of every framework example here (test/frameworks/ checks
// them): GET /users/:id, POST /echo (JSON in and out), GET /stream?chunks=N&gap=MS,
// GET /cookies (sets two, reads `session`), GET /fail (throws).
import cookieParser from 'cookie-parser';
import express from 'express';

const app = express();
app.use(express.json({ limit: '100kb' }));
app.use(cookieParser());

app.get('/', (req, res) => {
  res.type('text/plain').send(`Hello from Express on starlight (pid ${process.pid}): ${req.method} ${req.path}\n`);
});
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, pid: process.pid });
});
app.post('/echo', (req, res) => {
  res.json({ received: req.body });
});
// Each write goes out as it is made, as one chunk of a chunked response.
app.get('/stream', async (req, res) => {
  const chunks = Number(req.query.chunks ?? 3);
  const gap = Number(req.query.gap ?? 20);
  res.type('text/plain');
  for (let i = 1; i <= chunks; i++) {
    if (i > 1) await new Promise((resolve) => setTimeout(resolve, gap));
    res.write(`chunk ${i}\n`);
  }
  res.end();
});
app.get('/cookies', (req, res) => {
  res.cookie('visits', '1', { httpOnly: true, path: '/' });
  res.cookie('theme', 'dark', { path: '/' });
  res.json({ session: req.cookies.session ?? null });
});
// Express 5 passes a rejected promise or a throw to its error handler: here, its own default one (500).
app.get('/fail', () => {
  throw new Error('this route fails');
});

export default app;
