// json as an Express 5 app: the object serialized by res.json() per request.
import express from 'express';

const app = express();
app.disable('etag');
app.disable('x-powered-by');
app.get('/json', (req, res) => res.json({ message: 'Hello, World!' }));
export default app;
