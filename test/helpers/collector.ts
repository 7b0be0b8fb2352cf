import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './app';

export const COLLECTOR_BIN = join(ROOT, 'collector', 'dist', 'otelcol-tripline');
export const COLLECTOR_CONFIG = join(ROOT, 'otel-collector.yaml');

/** Build the collector if needed (a no-op when cached). Throws with the build output on failure. */
export function ensureCollector(): void {
  const r = spawnSync('bash', [join(ROOT, 'collector', 'build.sh')], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0) throw new Error(`collector build failed:\n${r.stdout}\n${r.stderr}`);
}

// One way to run the collector, shared with the demo.
export { freePort, runCollector as startCollector, type CollectorProcess as RunningCollector } from '../../src/demo/collector';

/** Build OTLP/JSON for records shaped like the agent's (docs/RECORDS.md). */
export function otlpJson(records: Array<{ event: string; attrs: Record<string, string | number | boolean>; severity?: number; body?: string; timeMs?: number }>, resource: Record<string, string> = { 'service.name': 'shop', 'service.instance.id': 'i-1' }): string {
  const kv = (o: Record<string, string | number | boolean>) =>
    Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : typeof v === 'boolean' ? { boolValue: v } : { stringValue: v } }));
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: kv(resource) },
        scopeLogs: [
          {
            scope: { name: 'tripline', version: '0.1.0' },
            logRecords: records.map((r) => ({
              timeUnixNano: String(BigInt(r.timeMs ?? Date.now()) * 1_000_000n),
              severityNumber: r.severity ?? 13,
              severityText: 'WARN',
              eventName: r.event,
              body: { stringValue: r.body ?? r.event },
              attributes: kv({ 'event.name': r.event, ...r.attrs }),
            })),
          },
        ],
      },
    ],
  });
}

export async function sendOtlp(otlpUrl: string, body: string): Promise<void> {
  const r = await fetch(`${otlpUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`collector answered ${r.status}: ${await r.text()}`);
}
