/** Runs `work` for 0..count-1 with at most `limit` in flight, calling `onProgress` after each. */
export async function forEachBounded(count: number, limit: number, work: (index: number) => Promise<void>, onProgress?: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await work(index);
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}
