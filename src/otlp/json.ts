import type { FlatRecord } from './records';

type Json = Record<string, unknown>;

/** An OTLP/JSON AnyValue to a plain JS value (int64 as number when safe, else string). */
export function anyValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return undefined;
  const o = v as Json;
  if ('stringValue' in o) return o.stringValue;
  if ('boolValue' in o) return o.boolValue;
  if ('intValue' in o) {
    const n = Number(o.intValue);
    return Number.isSafeInteger(n) ? n : String(o.intValue);
  }
  if ('doubleValue' in o) return Number(o.doubleValue);
  if ('arrayValue' in o) return (((o.arrayValue as Json)?.values as unknown[]) ?? []).map(anyValue);
  if ('kvlistValue' in o) return keyValues((o.kvlistValue as Json)?.values);
  if ('bytesValue' in o) return o.bytesValue;
  return undefined;
}

export function keyValues(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Json[]) if (typeof kv?.key === 'string') out[kv.key] = anyValue(kv.value);
  return out;
}

/** Flatten one ExportLogsServiceRequest (or a collector file-exporter line: same shape). */
export function flattenLogsJson(doc: unknown): FlatRecord[] {
  const out: FlatRecord[] = [];
  const rls = (doc as Json | null)?.resourceLogs;
  if (!Array.isArray(rls)) return out;
  for (const rl of rls as Json[]) {
    const resource = keyValues((rl.resource as Json | undefined)?.attributes);
    const sls = rl.scopeLogs;
    if (!Array.isArray(sls)) continue;
    for (const sl of sls as Json[]) {
      const sc = (sl.scope as Json | undefined) ?? {};
      const scope = { name: typeof sc.name === 'string' ? sc.name : '', version: typeof sc.version === 'string' ? sc.version : undefined };
      const lrs = sl.logRecords;
      if (!Array.isArray(lrs)) continue;
      for (const lr of lrs as Json[]) {
        out.push({
          resource,
          scope,
          timeUnixNano: String(lr.timeUnixNano ?? '0'),
          observedTimeUnixNano: lr.observedTimeUnixNano === undefined ? undefined : String(lr.observedTimeUnixNano),
          severityNumber: Number(lr.severityNumber ?? 0),
          severityText: typeof lr.severityText === 'string' ? lr.severityText : '',
          eventName: typeof lr.eventName === 'string' ? lr.eventName : '',
          body: anyValue(lr.body),
          attributes: keyValues(lr.attributes),
          traceId: typeof lr.traceId === 'string' ? lr.traceId : '',
          spanId: typeof lr.spanId === 'string' ? lr.spanId : '',
        });
      }
    }
  }
  return out;
}
