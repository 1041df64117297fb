// The baseline of `npm run bench`: a (req, res) app from bench/apps/node/ (or an Express
// app, bench/apps/express/) served by plain node:http in one process, or by node:https given
// a key and a certificate file. An app's `upgrade` export gets the server's 'upgrade'
// events, as under starlight.
// Usage: node bench/node-http.mjs PORT APPFILE [KEYFILE CERTFILE] (stops on SIGTERM).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [port, file, keyFile, certFile] = process.argv.slice(2);
const { default: handler, upgrade } = await import(pathToFileURL(resolve(file)).href);
const server = keyFile === undefined ? http.createServer(handler) : https.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, handler);
if (typeof upgrade === 'function') server.on('upgrade', upgrade);
server.listen(Number(port), '127.0.0.1');
