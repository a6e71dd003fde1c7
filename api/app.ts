/** Builds the HTTP application: middleware, route groups, the one error handler, the OpenAPI document. */
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { newId } from "../core/ids.ts";
import { isAdvisorOffboarded } from "../directory/advisors.ts";
import { createAdvisorStanding, refuseOffboardedAdvisors } from "./auth/standing.ts";
import { authenticate } from "./auth/middleware.ts";
import { tokenRules } from "./auth/principal.ts";
import { createRouter, type AppDeps } from "./context.ts";
import { createOnError, errorResponse } from "./errors.ts";
import { httpMetrics } from "./metrics/middleware.ts";
import { advisorRoutes } from "./routes/advisors.ts";
import { auditRoutes } from "./routes/audit.ts";
import { branchRoutes } from "./routes/branches.ts";
import { DEV_PUBLIC_PATHS, devTokenRoutes } from "./routes/devToken.ts";
import { directoryRoutes } from "./routes/directory.ts";
import { healthRoutes } from "./routes/health.ts";
import { incentiveRoutes } from "./routes/incentives.ts";
import { licenceRoutes } from "./routes/licences.ts";
import { meRoutes } from "./routes/me.ts";
import { messageRoutes } from "./routes/messages.ts";
import { offboardingRoutes } from "./routes/offboarding.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { policyRoutes } from "./routes/policy.ts";
import { policySimulateRoutes } from "./routes/policySimulate.ts";
import { recordRoutes } from "./routes/record.ts";
import { reportingRoutes } from "./routes/reporting.ts";
import { staffingRoutes } from "./routes/staffing.ts";
import { requestRoutes } from "./routes/requests.ts";
import { requireKnownMediaType } from "./mediaType.ts";
import { mountWebApps } from "./static/webApps.ts";
import { mountDocs } from "./static/docs.ts";
import { requireUtf8Bodies } from "./utf8Bodies.ts";
import { carriesBody } from "./requestBody.ts";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Request bodies above this are refused before parsing: nothing in the API needs more. */
const MAX_BODY_BYTES = 256 * 1024;

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
  app.use("*", httpMetrics(deps.metrics));
  // Counts the bytes actually read, so a chunked body without Content-Length is cut off too.
  // The rest of an oversized body is never read, so the connection cannot be reused: close it.
  // Only for a request with a body: bodyLimit's first look at it costs the rest (carriesBody).
  const limitBody = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => {
      c.header("Connection", "close");
      return errorResponse(c, "PAYLOAD_TOO_LARGE", `bodies are limited to ${MAX_BODY_BYTES} bytes`);
    },
  });
  app.use("*", (c, next) => (carriesBody(c.req) ? limitBody(c, next) : next()));

  // Every /v1 route is authenticated; the dev token endpoints are how local users get a token.
  const auth = authenticate(tokenRules(deps.config));
  app.use("/v1/*", (c, next) => (deps.config.devAuth && DEV_PUBLIC_PATHS.has(c.req.path) ? next() : auth(c, next)));
  app.use("/metrics", auth);
  app.use(
    "/v1/*",
    refuseOffboardedAdvisors(
      deps.standing ?? createAdvisorStanding((advisorId) => isAdvisorOffboarded(deps.backends.database.prisma, advisorId), { ttlMs: 0 }),
    ),
  );
  app.use("*", requireKnownMediaType());
  app.use("*", requireUtf8Bodies());

  app.route("/", healthRoutes(deps));
  if (deps.config.devAuth) app.route("/", devTokenRoutes(deps));
  app.route("/", requestRoutes(deps));
  app.route("/", advisorRoutes(deps));
  // Before the directory: GET /v1/advisors/me must not be taken for GET /v1/advisors/{id}.
  app.route("/", meRoutes(deps));
  app.route("/", directoryRoutes(deps));
  app.route("/", branchRoutes(deps));
  app.route("/", licenceRoutes(deps));
  app.route("/", policyRoutes(deps));
  app.route("/", policySimulateRoutes(deps));
  app.route("/", incentiveRoutes(deps));
  app.route("/", auditRoutes(deps));
  app.route("/", metricsRoutes(deps));
  app.route("/", messageRoutes(deps));
  app.route("/", offboardingRoutes(deps));
  app.route("/", recordRoutes(deps));
  app.route("/", reportingRoutes(deps));
  app.route("/", staffingRoutes(deps));

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: { title: "advisor-dispatch", version: "1", description: "Matches clients with a licensed, free financial advisor now." },
    security: [{ bearer: [] }],
  });
  // Local files only: the docs UI and the manager console work with no network.
  mountDocs(app);
  mountWebApps(app);
  app.notFound((c) => errorResponse(c, "NOT_FOUND", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError(createOnError(deps.logger));
  return app;
}
