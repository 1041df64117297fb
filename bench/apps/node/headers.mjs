// headers: one request header read; five response headers set, two of them Set-Cookie.
const BODY = 'Hello, World!';

export default function headers(req, res) {
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Request-Id': req.headers['x-request-id'] ?? '',
    'Set-Cookie': ['sid=abc123; Path=/; HttpOnly', 'theme=dark; Path=/; Max-Age=3600'],
    'Content-Length': BODY.length,
  });
  res.end(BODY);
}
