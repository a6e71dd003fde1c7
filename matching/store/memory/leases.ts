/**
 * Named leases and the generation marker for the in-memory store. One process owns the memory store,
 * so these mostly keep the port's semantics honest (a lease expires; only its holder may renew it).
 * Lease time is wall-clock time, like Redis's PX.
 */
export class LeaseBook {
  private readonly leases = new Map<string, { token: string; until: number }>();
  generation: string | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  acquire(name: string, token: string, ttlMs: number): boolean {
    const held = this.leases.get(name);
    if (held && held.until > this.now() && held.token !== token) return false;
    this.leases.set(name, { token, until: this.now() + ttlMs });
    return true;
  }

  renew(name: string, token: string, ttlMs: number): boolean {
    const held = this.leases.get(name);
    if (!held || held.token !== token || held.until <= this.now()) return false;
    held.until = this.now() + ttlMs;
    return true;
  }

  release(name: string, token: string): void {
    if (this.leases.get(name)?.token === token) this.leases.delete(name);
  }

  clear(): void {
    this.leases.clear();
    this.generation = null;
  }
}
