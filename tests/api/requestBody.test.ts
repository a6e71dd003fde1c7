/** carriesBody: a request's body is known from its method and headers, before anything reads it. */
import { describe, expect, it } from "vitest";
import { carriesBody } from "../../api/requestBody.ts";

const request = (method: string, headers: Record<string, string> = {}) => ({ method, header: (name: string) => headers[name] });

describe("carriesBody", () => {
  it.each([
    ["GET", {}, false],
    ["HEAD", {}, false],
    // @hono/node-server never reads a GET's body, so neither the limit nor the checks need it.
    ["GET", { "content-length": "10" }, false],
    ["POST", {}, false],
    ["POST", { "content-length": "0" }, false],
    ["DELETE", {}, false],
    ["POST", { "content-length": "12" }, true],
    ["PUT", { "content-length": "1" }, true],
    ["POST", { "transfer-encoding": "chunked" }, true],
    // A length that is not a number is not taken for "no body": the limit and the parser decide.
    ["PATCH", { "content-length": "abc" }, true],
  ] as const)("%s with %j: %s", (method, headers, expected) => {
    expect(carriesBody(request(method, headers))).toBe(expected);
  });
});
