// json: a fresh object serialized on every request by Response.json.
export default {
  fetch() {
    return Response.json({ message: 'Hello, World!' });
  },
};
