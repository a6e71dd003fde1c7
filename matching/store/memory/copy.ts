/**
 * Deep copy of the store's plain data (objects, arrays, strings, numbers, booleans, null). The
 * memory store copies everything it hands out, on every call, so this is on the hot path:
 * structuredClone handles every kind of value through a serialiser and costs several times more
 * for the small plain objects the store holds. Anything that is not plain data (a Map, a Date, a
 * class instance) is a store bug and throws rather than being copied wrongly.
 */
export function copyPlain<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(copyPlain) as T;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new TypeError(`copyPlain: not plain data (${proto?.constructor?.name ?? "unknown"})`);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = copyPlain((value as Record<string, unknown>)[key]);
  return out as T;
}
