import { emit } from '../events/emitter';
import { stats, totalDropped } from '../internal/diag';
import type { DeliveryProcessor } from './delivery';

/**
 * security.sys_monitor every interval: what the agent accepted, exported, spooled and dropped since
 * the last heartbeat and in total, its queue depth and spool size. Its absence is itself a signal: the
 * collector counts heartbeats per instance so a backend can alert on silence.
 */
export function startHeartbeat(intervalMs: number, delivery: DeliveryProcessor): () => void {
  if (intervalMs <= 0) return () => undefined;
  let last = { accepted: 0, exported: 0, spooled: 0, dropped: 0, retried: 0 };
  const timer = setInterval(() => {
    const now = { accepted: stats.accepted, exported: stats.exported, spooled: stats.spooled, dropped: totalDropped(), retried: stats.retried };
    const reasons: string[] = [];
    for (const k in stats.dropped) reasons.push(`${k}=${stats.dropped[k] ?? 0}`);
    emit(
      'security.sys_monitor',
      {
        'tripline.records.accepted': now.accepted - last.accepted,
        'tripline.records.exported': now.exported - last.exported,
        'tripline.records.spooled': now.spooled - last.spooled,
        'tripline.records.dropped': now.dropped - last.dropped,
        'tripline.records.retried': now.retried - last.retried,
        'tripline.records.accepted_total': now.accepted,
        'tripline.records.exported_total': now.exported,
        'tripline.records.spooled_total': now.spooled,
        'tripline.records.dropped_total': now.dropped,
        'tripline.records.dropped_reasons': reasons.join(','),
        'tripline.queue.depth': delivery.queueDepth,
        'tripline.spool.records': delivery.spool.totalRecords,
        'tripline.spool.bytes': delivery.spool.totalBytes,
        'tripline.internal_errors': stats.internalErrors,
        'tripline.heartbeat.interval_ms': intervalMs,
      },
      { body: 'tripline heartbeat', state: null },
    );
    last = now;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
