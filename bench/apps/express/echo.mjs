// echo as an Express 5 app: the body read whole by express.raw(), then sent back.
import express from 'express';

const app = express();
app.disable('etag');
app.disable('x-powered-by');
app.post('/echo', express.raw({ type: 'application/octet-stream', limit: '1mb' }), (req, res) => res.type('application/octet-stream').send(req.body));
export default app;
