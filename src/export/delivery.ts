import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { LogRecordExporter, LogRecordProcessor, ReadableLogRecord, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { countDrop, internalError, stats } from '../internal/diag';
import { Spool } from './spool';

/** No request's context and tracing suppressed: what the exporter does is not the app's traffic. */
const EXPORT_CONTEXT = suppressTracing(ROOT_CONTEXT);

export interface DeliveryOptions {
  maxQueue: number;
  maxBatch: number;
  delayMs: number;
  exportTimeoutMs: number;
  spoolDir: string;
  spoolMaxBytes: number;
  /** Called when exporting stops working (true) or works again (false). */
  onAvailability?: (down: boolean, reason: string) => void;
}

const MIN_BACKOFF = 500;
const MAX_BACKOFF = 30_000;

/**
 * tripline's delivery stage, in place of the upstream batch processor (which drops silently when its
 * queue is full). onEmit only appends to an array. Batches go to the upstream OTLP exporter one at a
 * time, in order. A batch the exporter gives up on (after its own retries) goes to the on-disk spool;
 * while the spool holds anything, new batches go there too, so replay keeps emission order. A probe
 * with backoff replays the spool oldest first and deletes each segment once acknowledged.
 * Every record is counted: accepted, exported, spooled, dropped (by reason).
 */
export class DeliveryProcessor implements LogRecordProcessor {
  private queue: ReadableLogRecord[] = [];
  private inFlight: ReadableLogRecord[] | undefined;
  private busy: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private probe: NodeJS.Timeout | undefined;
  private backoff = MIN_BACKOFF;
  private down = false;
  private stopped = false;
  readonly spool: Spool;

  constructor(
    private readonly exporter: LogRecordExporter,
    private readonly opts: DeliveryOptions,
  ) {
    this.spool = new Spool(opts.spoolDir, opts.spoolMaxBytes, (n, reason) => countDrop(reason, n));
  }

  /** Open the spool (adopting what a dead process left) and start replaying it. */
  start(): void {
    try {
      this.spool.open();
      if (this.spool.size > 0) this.kick(0);
    } catch (err) {
      internalError('spool.open', err);
    }
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  get isDown(): boolean {
    return this.down;
  }

  onEmit(record: ReadWriteLogRecord): void {
    stats.accepted++;
    if (this.stopped) {
      // after shutdown: straight to disk, never lost
      this.spoolSync([record], 'after_shutdown');
      return;
    }
    this.queue.push(record);
    if (this.queue.length > this.opts.maxQueue) this.overflow();
    if (this.queue.length >= this.opts.maxBatch) this.kick(0);
    else if (this.timer === undefined) this.kick(this.opts.delayMs);
  }

  /** Queue past its bound: move the oldest batch to disk (after this call returns). */
  private overflow(): void {
    if (this.queue.length > this.opts.maxQueue * 2) {
      // hard bound: spool synchronously rather than grow without limit
      this.spoolSync(this.queue.splice(0, this.opts.maxBatch), 'queue_overflow');
      return;
    }
    setImmediate(() => {
      if (this.queue.length > this.opts.maxQueue) this.spoolSync(this.queue.splice(0, this.queue.length - this.opts.maxQueue + this.opts.maxBatch), 'queue_overflow');
    });
  }

  private spoolSync(records: ReadableLogRecord[], why: string): void {
    if (records.length === 0) return;
    try {
      stats.spooled += this.spool.write(records);
    } catch (err) {
      internalError(`spool.write(${why})`, err);
      countDrop(`spool_unwritable`, records.length);
    }
  }

  private kick(delay: number): void {
    if (this.timer !== undefined) {
      if (delay > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pump();
    }, delay);
    this.timer.unref();
  }

  /** Deliver what can be delivered now; one export at a time. */
  private pump(): Promise<void> {
    if (this.busy !== undefined) return this.busy;
    this.busy = (async () => {
      // Yield first: were the body to finish synchronously, its `finally` would clear `busy` before
      // the assignment above stores the promise, leaving the pump marked busy forever.
      await undefined;
      try {
        for (;;) {
          if (this.spool.size > 0 || this.down) {
            // keep order: what is queued goes behind what is spooled
            if (this.queue.length > 0) this.spoolSync(this.queue.splice(0), 'endpoint_down');
            if (this.down && this.probe !== undefined) return;
            const next = this.spool.peek();
            if (next === undefined) {
              this.down = false;
              continue;
            }
            const ok = await this.exportOnce(next.records);
            if (!ok) return this.scheduleProbe();
            this.spool.ack(next.seg);
            stats.exported += next.records.length;
            this.up();
            continue;
          }
          if (this.queue.length === 0) return;
          const batch = this.queue.splice(0, this.opts.maxBatch);
          this.inFlight = batch;
          const ok = await this.exportOnce(batch);
          this.inFlight = undefined;
          if (ok) {
            stats.exported += batch.length;
            continue;
          }
          this.spoolSync(batch, 'export_failed');
          this.goDown('export_failed');
          return this.scheduleProbe();
        }
      } catch (err) {
        internalError('delivery.pump', err);
      } finally {
        this.busy = undefined;
        if (this.queue.length > 0 && !this.down && this.timer === undefined) this.kick(this.opts.delayMs);
      }
    })();
    return this.busy;
  }

  private exportOnce(records: ReadableLogRecord[]): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let done = false;
      const t = setTimeout(() => {
        if (!done) {
          done = true;
          stats.retried++;
          resolve(false);
        }
      }, this.opts.exportTimeoutMs);
      t.unref();
      try {
        // The exporter's own HTTP requests must not be instrumented: with client requests recorded they
        // would each become a record to export, and so on, for as long as the process runs.
        context.with(EXPORT_CONTEXT, () =>
          this.exporter.export(records, (result: ExportResult) => {
            if (done) return;
            done = true;
            clearTimeout(t);
            if (result.code !== ExportResultCode.SUCCESS) stats.retried++;
            resolve(result.code === ExportResultCode.SUCCESS);
          }),
        );
      } catch (err) {
        internalError('exporter.export', err);
        if (!done) {
          done = true;
          clearTimeout(t);
          resolve(false);
        }
      }
    });
  }

  private goDown(reason: string): void {
    if (this.down) return;
    this.down = true;
    this.opts.onAvailability?.(true, reason);
  }

  private up(): void {
    this.backoff = MIN_BACKOFF;
    if (this.down) {
      this.down = false;
      this.opts.onAvailability?.(false, 'recovered');
    }
  }

  private scheduleProbe(): void {
    if (this.probe !== undefined || this.stopped) return;
    this.down = true;
    const wait = this.backoff;
    this.backoff = Math.min(MAX_BACKOFF, this.backoff * 2);
    this.probe = setTimeout(() => {
      this.probe = undefined;
      this.down = false; // try again: the pump replays the spool first
      void this.pump();
    }, wait);
    this.probe.unref();
  }

  /** Deliver everything queued (and spooled, if the endpoint answers) within the timeout. */
  async forceFlush(options?: { timeoutMillis?: number }): Promise<void> {
    const deadline = Date.now() + (options?.timeoutMillis ?? 30_000);
    while (Date.now() < deadline) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      if (this.probe !== undefined) {
        clearTimeout(this.probe);
        this.probe = undefined;
        this.down = false;
      }
      await Promise.race([this.pump(), new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now())).unref())]);
      if (this.queue.length === 0 && this.busy === undefined && (this.spool.size === 0 || this.down)) return;
      if (this.down) return;
    }
  }

  /** Flush within the timeout; whatever could not be delivered is on disk for the next start. */
  async shutdownWithin(timeoutMs: number): Promise<void> {
    await this.forceFlush({ timeoutMillis: timeoutMs }).catch((err: unknown) => internalError('delivery.flush', err));
    this.stopNow();
    await this.exporter.shutdown().catch(() => undefined);
  }

  shutdown(): Promise<void> {
    return this.shutdownWithin(5000);
  }

  /** Synchronous last resort (process 'exit', crashes): queue and in-flight batch to disk. */
  stopNow(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.probe !== undefined) clearTimeout(this.probe);
    const rest = [...(this.inFlight ?? []), ...this.queue.splice(0)];
    this.inFlight = undefined;
    this.spoolSync(rest, 'exit');
  }
}

/**
 * The spool folder of this process: <base>/<pid>. Folders of processes that are gone (a crash, a
 * SIGKILL) are adopted: their segments move into ours, keeping their order, and are replayed.
 */
export function processSpoolDir(base: string | undefined, serviceName: string): string {
  const root = base ?? join(tmpdir(), 'tripline-spool', serviceName.replace(/[^A-Za-z0-9._-]/g, '_'));
  const mine = join(root, String(process.pid));
  try {
    mkdirSync(mine, { recursive: true, mode: 0o700 });
    // our own leftovers (pid reuse) keep their numbers; adopted segments are renumbered after them
    let next = readdirSync(mine).filter((f) => f.endsWith('.json')).length + 1;
    for (const d of readdirSync(root).sort()) {
      if (d === String(process.pid) || !/^\d+$/.test(d)) continue;
      if (alive(Number(d))) continue;
      const from = join(root, d);
      const files = readdirSync(from)
        .filter((f) => /^\d{16}-[sl]-\d+\.json$/.test(f))
        .sort();
      for (const f of files) {
        let target = join(mine, `${String(next++).padStart(16, '0')}${f.slice(16)}`);
        while (existsSync(target)) target = join(mine, `${String(next++).padStart(16, '0')}${f.slice(16)}`);
        renameSync(join(from, f), target);
      }
      try {
        rmdirSync(from);
      } catch {
        // not empty (e.g. .bad segments kept for inspection)
      }
    }
  } catch (err) {
    internalError('spool.adopt', err);
  }
  return mine;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
