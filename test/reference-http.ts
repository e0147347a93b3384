/**
 * The reference server's app over real HTTP on loopback (a node:http server on a free port), so a test reaches it the
 * way a deployment reaches a provider: the workers tests' globalSetup and the CLI's tests in Node use it.
 */
import { createServer } from "node:http";

export interface LoopbackServer {
  /** http://127.0.0.1:PORT, with no trailing slash. */
  origin: string;
  close: () => Promise<void>;
}

/** Serves `app` (anything with a fetch-style `request`, as a Hono app has) until `close`. */
export async function serveOverHttp(app: {
  request: (input: string, init: RequestInit) => Response | Promise<Response>;
}): Promise<LoopbackServer> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const answer = await app.request(request.url ?? "/", {
      method: request.method ?? "GET",
      headers: Object.entries(request.headers).flatMap(([name, value]) =>
        typeof value === "string" ? [[name, value] as [string, string]] : [],
      ),
      ...(body.length > 0 ? { body } : {}),
    });
    const headers: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      headers[name] = value;
    });
    response.writeHead(answer.status, headers);
    response.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("the loopback server has no address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
