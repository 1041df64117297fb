// The baseline of `npm run bench`: a (req, res) app from bench/apps/node/ served by plain
// node:http in one process. Usage: node bench/node-http.mjs PORT APPFILE (stops on SIGTERM).
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [port, file] = process.argv.slice(2);
const { default: handler } = await import(pathToFileURL(resolve(file)).href);
http.createServer(handler).listen(Number(port), '127.0.0.1');
