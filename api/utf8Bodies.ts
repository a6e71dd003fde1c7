/**
 * Text bodies (JSON, CSV) must be valid UTF-8. A lenient decoder puts U+FFFD where a caller's bad
 * bytes were, so we would store, hash and answer with text the caller never sent; a 400 naming the
 * line tells them instead. Bodies are read once here and cached by Hono for the validators.
 */
import type { MiddlewareHandler } from "hono";
import { invalidUtf8Line } from "../core/unicode.ts";
import { errorResponse } from "./errors.ts";
import { carriesBody } from "./requestBody.ts";

const TEXTUAL = /^\s*(application\/([\w.-]+\+)?json|text\/)/i;

export function requireUtf8Bodies(): MiddlewareHandler {
  return async (c, next) => {
    if (!carriesBody(c.req) || !TEXTUAL.test(c.req.header("content-type") ?? "")) return next();
    const line = invalidUtf8Line(new Uint8Array(await c.req.arrayBuffer()));
    if (line !== null) {
      return errorResponse(c, "VALIDATION_FAILED", `the body is not valid UTF-8 (line ${line})`, [{ path: "body", message: `invalid UTF-8 on line ${line}` }]);
    }
    return next();
  };
}
