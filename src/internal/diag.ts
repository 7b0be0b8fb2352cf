import { diag } from '@opentelemetry/api';

/**
 * Self-monitoring counters and the guard every hook runs through. The agent never throws into the app:
 * an internal error is counted, reported once per place through OTel diag, and the app goes on.
 */
export const stats = {
  /** Records handed to the pipeline (after redaction). */
  accepted: 0,
  /** Records acknowledged by the receiver. */
  exported: 0,
  /** Records that could not be delivered and were given up, by reason. */
  dropped: Object.create(null) as Record<string, number>,
  /** Export attempts retried. */
  retried: 0,
  /** Records written to the on-disk spool. */
  spooled: 0,
  /** Internal errors caught in hooks. */
  internalErrors: 0,
};

export function countDrop(reason: string, n = 1): void {
  stats.dropped[reason] = (stats.dropped[reason] ?? 0) + n;
}

export function totalDropped(): number {
  let t = 0;
  for (const k in stats.dropped) t += stats.dropped[k] ?? 0;
  return t;
}

const reported = new Set<string>();

/** Count an internal error and report it through diag (once per place, then only counted). */
export function internalError(where: string, err: unknown): void {
  stats.internalErrors++;
  if (reported.has(where)) return;
  reported.add(where);
  try {
    diag.error(`tripline: internal error in ${where} (further errors here are only counted)`, err);
  } catch {
    // diag itself must never break the app
  }
}

/** Run fn; any exception is swallowed and counted. */
export function guard<T>(where: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    internalError(where, err);
    return undefined;
  }
}
