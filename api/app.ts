/** Builds the HTTP application: middleware, route groups, the one error handler, the OpenAPI document. */
import { requestId } from "hono/request-id";
import { newId } from "../core/ids.ts";
import { createRouter, type AppDeps } from "./context.ts";
import { createOnError, errorResponse } from "./errors.ts";
import { healthRoutes } from "./routes/health.ts";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export function createApp(deps: AppDeps) {
  const app = createRouter();
  // Honour a caller's X-Request-Id when it is sane, so a mobile app can correlate its own logs.
  app.use(
    "*",
    requestId({
      generator: (c) => {
        const given = c.req.header("x-request-id");
        return given && CLIENT_REQUEST_ID.test(given) ? given : newId("request").replace(/^req_/, "rid_");
      },
    }),
  );
  app.route("/", healthRoutes(deps));
  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError(createOnError(deps.logger));
  app.doc31("/openapi.json", { openapi: "3.1.0", info: { title: "advisor-dispatch", version: "1" } });
  return app;
}
