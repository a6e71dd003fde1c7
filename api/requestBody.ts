/**
 * Whether a request carries a body, from its method and headers alone: a request without
 * Content-Length or Transfer-Encoding has none (RFC 9112, section 6.3), and @hono/node-server never
 * reads one for GET or HEAD. Middleware asks this before it touches `c.req.raw.body`, because on
 * Node the first touch builds the Fetch Request (with an AbortController and a web stream over the
 * socket): about 4% of the server's CPU in the endToEnd benchmark went there, for GETs and for
 * bodiless POSTs (accept, complete) as much as for those with a body.
 */
export function carriesBody(req: { method: string; header(name: string): string | undefined }): boolean {
  if (req.method === "GET" || req.method === "HEAD") return false;
  if (req.header("transfer-encoding") !== undefined) return true;
  const length = req.header("content-length");
  return length !== undefined && Number(length) !== 0;
}
