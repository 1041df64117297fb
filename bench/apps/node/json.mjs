// json: a fresh object serialized on every request.
export default function json(req, res) {
  const body = JSON.stringify({ message: 'Hello, World!' });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
