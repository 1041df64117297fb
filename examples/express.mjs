// An Express app, served as it is: `starlight examples/express.mjs` (with
// `npm install express`), then open http://localhost:5000/. The default export
// is the app itself, a (req, res) function; starlight never calls listen().
import express from 'express';

const app = express();
app.use(express.json({ limit: '100kb' }));

app.get('/', (req, res) => {
  res.type('text/plain').send(`Hello from Express on starlight (pid ${process.pid}): ${req.method} ${req.path}\n`);
});
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, query: req.query });
});
app.post('/echo', (req, res) => {
  res.json({ received: req.body });
});
app.get('/fail', () => {
  throw new Error('this route fails');
});
// Express's own error handler answers, as it would under node:http.
app.use((error, req, res, next) => {
  res.status(500).json({ error: error.message });
});

export default app;
