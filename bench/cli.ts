/** What the benchmark's entry points share: settings from the environment, progress lines, the load average. */
import { loadavg } from 'node:os';

/** A positive number from the environment, else the fallback; anything else stops the run. */
export const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const started = performance.now();
/** A step, on stderr, with the time since the start, so stdout keeps only the results. */
export const progress = (line: string) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);

export const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
export const pad = (text: string, width: number, left = false) => (left ? text.padEnd(width) : text.padStart(width));
