/** A small HTTP + WebSocket client for end-to-end tests against a running server. */
import WebSocket from "ws";

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A body `call` sends as is rather than as JSON (a CSV upload); pass its content-type header too. */
export class RawBody {
  constructor(readonly text: string) {}
}

export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly token?: string,
  ) {}

  as(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : body instanceof RawBody ? body.text : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (metrics, docs)
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** Mints a token through the dev endpoint. */
  async devToken(sub: string, role: string, branchId?: string): Promise<string> {
    const res = await this.call<{ token: string }>("POST", "/v1/dev/token", { sub, role, ...(branchId ? { branchId } : {}) });
    if (res.status !== 200) throw new Error(`dev token: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  }

  /**
   * The advisor's open offer for a request. Offers are made by whichever process holds the
   * request's deadline lease, so one may land a moment after the create call returns: poll.
   */
  async offerFor(requestId: string, timeoutMs = 5_000): Promise<{ offerId: string; requestId: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const offers = (await this.call<Array<{ offerId: string; requestId: string }>>("GET", "/v1/advisors/me/offers")).body;
      const offer = Array.isArray(offers) ? offers.find((o) => o.requestId === requestId) : undefined;
      if (offer) return offer;
      if (Date.now() > deadline) throw new Error(`no offer for ${requestId} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Opens the realtime socket and records every message it receives. */
  async socket(): Promise<RecordingSocket> {
    const url = `${this.baseUrl.replace(/^http/, "ws")}/v1/ws?token=${encodeURIComponent(this.token ?? "")}`;
    const ws = new WebSocket(url);
    const socket = new RecordingSocket(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
      ws.once("unexpected-response", (_req, res) => reject(new Error(`ws refused: ${res.statusCode}`)));
    });
    await socket.next((m) => m.type === "hello", 5_000);
    return socket;
  }
}

export class RecordingSocket {
  readonly messages: Array<{ at: number; message: any }> = [];
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push({ at: performance.now(), message: JSON.parse(String(data)) });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** The first message (already received or arriving within timeoutMs) that matches. */
  async next(match: (message: any) => boolean, timeoutMs = 5_000): Promise<{ at: number; message: any }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => match(m.message));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.message.type))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}
