// plaintext (also pipelined and no-keepalive): a fixed text answer, as a node:http (req, res) handler.
// Content-Length is given so that node:http does not answer chunked.
const BODY = 'Hello, World!';

export default function plaintext(req, res) {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': BODY.length });
  res.end(BODY);
}
