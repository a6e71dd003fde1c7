/**
 * The latency baseline: Hono's hello world on @hono/node-server, the framework and adapter our API
 * runs on, doing nothing else. Run as its own process (PORT, HOST from the environment) so it is
 * measured exactly as our API is.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.text("Hello Hono!"));

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: process.env.HOST ?? "127.0.0.1" });
