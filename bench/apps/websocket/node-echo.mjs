// WebSocket echo as a Node app: ws's WebSocketServer({ noServer: true }) behind the
// `upgrade` export, which starlight and node:http (bench/node-http.mjs) both call
// on an Upgrade request. For bench/websocket.mjs.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ noServer: true });

export default function (req, res) {
  res.end('a WebSocket echo\n');
}

export function upgrade(req, socket, head) {
  wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
}
