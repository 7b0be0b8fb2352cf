import { createHmac } from 'node:crypto';

/**
 * Canonical JSON in the spirit of RFC 8785: object keys sorted by code unit, no whitespace, numbers as
 * ECMAScript serializes them, byte arrays as base64. The same value gives the same bytes whether it
 * comes from the live record or from an OTLP/JSON file the collector wrote.
 */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'number') return Number.isFinite(v) ? JSON.stringify(v) : JSON.stringify(String(v));
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  }
  return 'null';
}

/** The attributes the chain adds; excluded from what the MAC covers (seq and prev enter it directly). */
export const AUDIT_KEYS = ['audit.integrity.mac', 'audit.sequence.number', 'audit.sequence.prev_hash', 'audit.stream.id'];

export interface ChainedFields {
  eventName: string;
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: unknown;
  attributes: Record<string, unknown>;
  serviceName: unknown;
  serviceInstanceId: unknown;
}

/** HMAC-SHA256(key, canonical(record) || "\n" || stream || "\n" || seq || "\n" || prev), hex. */
export function recordMac(key: Buffer, f: ChainedFields, stream: string, seq: number, prev: string): string {
  const attrs: Record<string, unknown> = {};
  for (const k in f.attributes) if (!AUDIT_KEYS.includes(k)) attrs[k] = f.attributes[k];
  const body = canonical({ e: f.eventName, t: f.timeUnixNano, sn: f.severityNumber, st: f.severityText, b: f.body ?? null, a: attrs, r: { n: f.serviceName ?? null, i: f.serviceInstanceId ?? null } });
  return createHmac('sha256', key).update(body).update('\n').update(stream).update('\n').update(String(seq)).update('\n').update(prev).digest('hex');
}

export const GENESIS_PREV = '0'.repeat(64);
