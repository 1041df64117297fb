// WebSocket echo as a Fetch app (context.upgradeWebSocket()), for bench/websocket.mjs.
export default {
  fetch(request, context) {
    const { socket, response } = context.upgradeWebSocket();
    socket.binaryType = 'arraybuffer';
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  },
};
