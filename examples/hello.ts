// The same app in TypeScript: runs without a build step on Node >= 22.18
// (`starlight examples/hello.ts`), or with a loader on older Node
// (`npm install tsx && starlight --import tsx examples/hello.ts`).
interface Context {
  worker: { id: number; pid: number; requests: number };
}

export default {
  fetch(request: Request, context: Context): Response {
    const url = new URL(request.url);
    return Response.json({ path: url.pathname, worker: context.worker.id, served: context.worker.requests });
  },
};
