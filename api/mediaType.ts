/**
 * A body must say what it is. A POST, PUT, PATCH or DELETE carrying a body without a Content-Type,
 * or with one no route reads, is a 415 naming the types we take: without it a JSON body would be
 * read as empty and answered 400 "did not match the schema", which sends the caller looking in
 * the wrong place. Routes read JSON (application/json, or a +json type) and the licence import
 * reads text/csv; each route still checks that its own type is the one sent.
 */
import type { MiddlewareHandler } from "hono";
import { errorResponse } from "./errors.ts";
import { carriesBody } from "./requestBody.ts";

const READABLE = /^(application\/([\w.-]+\+)?json|text\/csv)$/i;
const WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The media type of a Content-Type header, lower-cased and without parameters ("" when absent). */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? "").split(";")[0]!.trim().toLowerCase();
}

export function requireKnownMediaType(): MiddlewareHandler {
  return async (c, next) => {
    if (!WITH_BODY.has(c.req.method) || !carriesBody(c.req)) return next();
    const given = c.req.header("content-type");
    const mediaType = mediaTypeOf(given);
    if (READABLE.test(mediaType)) return next();
    const message =
      given === undefined
        ? "the body has no Content-Type: send application/json (text/csv for a licence import)"
        : `Content-Type ${JSON.stringify(mediaType.slice(0, 100))} is not read here: send application/json (text/csv for a licence import)`;
    return errorResponse(c, "UNSUPPORTED_MEDIA_TYPE", message);
  };
}
