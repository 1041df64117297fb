// WebSocket echo as a Fetch app (context.upgradeWebSocket(), the WebSocket API), for
// bench/websocket.mjs.
export default {
  fetch(request, context) {
    const { socket, response } = context.upgradeWebSocket();
    socket.onmessage = (event) => socket.send(event.data);
    return response;
  },
};
