/** Prometheus metrics: the interface routes and middleware use (implementation in api/metrics/). */
export interface Metrics {
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** The Prometheus text exposition of every metric, gauges refreshed at scrape time. */
  render(): Promise<string>;
}
