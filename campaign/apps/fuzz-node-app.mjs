// The Node (req, res) app campaign/fuzz.mjs serves: as fuzz-app.mjs, with each
// of node:http's ways of setting a field (setHeader, appendHeader, writeHead
// with an object or a flat array), chosen by the body's `api`.

export default function app(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (req.url !== '/echo') {
      res.end(`${req.method} ${body.length}`);
      return;
    }
    const { api, status, reason, headers } = JSON.parse(body.toString('utf8'));
    try {
      if (api === 'setHeader') for (const [name, value] of headers) res.setHeader(name, value);
      if (api === 'appendHeader') for (const [name, value] of headers) res.appendHeader(name, value);
      if (api === 'writeHead-object') res.writeHead(status, reason, Object.fromEntries(headers));
      else if (api === 'writeHead-array') res.writeHead(status, reason, headers.flat());
      else res.writeHead(status, reason);
      res.end('echoed');
    } catch (error) {
      // What node:http refuses: answer 500 without the fields set so far (and with a
      // reason of its own: writeHead keeps a refused one in statusMessage).
      if (res.headersSent) return void res.destroy();
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.writeHead(500, 'Refused').end(`refused: ${error.code ?? error.message}`);
    }
  });
}
