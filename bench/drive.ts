/** The closed-loop driver every in-process case uses: `concurrency` lanes back to back. */
import { type CaseResult, summarize } from './stats.js';

/** Runs `concurrency` lanes back to back for `seconds`; times each `run`, not its `prepare`. */
export async function drive<T>(seconds: number, concurrency: number, prepare: () => T, run: (input: T) => Promise<void>): Promise<CaseResult> {
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  const lane = async () => {
    while (process.hrtime.bigint() < end) {
      const input = prepare();
      const t0 = process.hrtime.bigint();
      try {
        await run(input);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch (error) {
        errors += 1;
        if (errorSamples.length < 5) errorSamples.push(error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  return summarize(latencies, elapsed, errors, errorSamples);
}
