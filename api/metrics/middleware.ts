/**
 * Records every request in the HTTP metrics, labelled with the matched route pattern
 * ("/v1/requests/:id"), never the raw path: raw paths carry ids, and one series per id would grow
 * without bound. Mount it first (app.use("*", …)), so it times the whole chain including errors.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { Metrics } from "../metrics.ts";

export function httpMetrics(metrics: Metrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    // Hono hands a thrown error to onError before it reaches here; should one escape anyway, the
    // response is not written yet, so count it as the 500 it will become.
    let escaped = false;
    try {
      await next();
    } catch (error) {
      escaped = true;
      throw error;
    } finally {
      // After next() the route index is the handler that answered (or the middleware that
      // short-circuited, e.g. "/v1/*" for a 401; the catch-all "/*" for a 404): always a registered pattern.
      // routePath(c) is c.req.routePath without the deprecation.
      metrics.observeHttp(c.req.method, routePath(c) || "unmatched", escaped ? 500 : c.res.status, (performance.now() - started) / 1000);
    }
  };
}
