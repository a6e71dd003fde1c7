/**
 * Fires due deadlines: offer expiries, stage timeouts, queue expiry. Every process runs one; the
 * store's deadline leases make sure each due request is handled by one process at a time, and a
 * process that dies mid-pass leaves its requests to whoever sweeps after the lease.
 */
export interface Tickable {
  tick(limit?: number): Promise<number>;
}

export class DeadlineSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly engine: Tickable,
    private readonly intervalMs = 250,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.running) return; // a slow pass is not overlapped by the next
      this.running = this.engine
        .tick()
        .catch(this.onError)
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Stops sweeping and waits for a pass in progress to finish. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
