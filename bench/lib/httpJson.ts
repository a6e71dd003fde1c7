/**
 * A lean JSON-over-HTTP client for load generation: node:http with one keep-alive agent, because
 * the load generator shares two cores with the servers it measures and fetch() costs several times
 * more CPU per call. Used for our API and the hello-world baseline alike, so both pay the same.
 */
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

export function httpJson<T = any>(baseUrl: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<JsonResponse<T>> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string | number> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${path}`, { method, headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // not JSON (hello world answers plain text)
        }
        resolve({ status: response.statusCode ?? 0, body: body as T });
      });
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(payload);
  });
}

/** httpJson that insists on one status, naming the call and the answer otherwise. */
export async function expectStatus<T = any>(
  status: number,
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<T> {
  const response = await httpJson<T>(baseUrl, method, path, options);
  if (response.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}
