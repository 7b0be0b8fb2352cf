import type { FlatRecord } from './records';

/**
 * A small reader for the protobuf wire format of ExportLogsServiceRequest (opentelemetry-proto
 * logs/v1), enough to decode what OTLP/HTTP protobuf exporters send. Unknown fields are skipped.
 */
class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('protobuf: truncated varint');
      const b = this.buf[this.pos++] as number;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('protobuf: varint too long');
    }
  }
  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new Error('protobuf: truncated fixed64');
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return dv.getBigUint64(0, true);
  }
  double(): number {
    if (this.pos + 8 > this.end) throw new Error('protobuf: truncated double');
    const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8);
    this.pos += 8;
    return dv.getFloat64(0, true);
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.end) throw new Error('protobuf: truncated bytes');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
  sub(): Reader {
    const b = this.bytes();
    return new Reader(b);
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  *fields(): Generator<[number, number]> {
    while (this.pos < this.end) {
      const tag = Number(this.varint());
      yield [tag >>> 3, tag & 7];
    }
  }
}

const utf8 = new TextDecoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function anyValue(r: Reader): unknown {
  let v: unknown;
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) v = utf8.decode(r.bytes());
    else if (f === 2 && w === 0) v = r.varint() !== 0n;
    else if (f === 3 && w === 0) {
      const n = BigInt.asIntN(64, r.varint());
      v = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    } else if (f === 4 && w === 1) v = r.double();
    else if (f === 5 && w === 2) {
      const arr: unknown[] = [];
      const ar = r.sub();
      for (const [af, aw] of ar.fields()) {
        if (af === 1 && aw === 2) arr.push(anyValue(ar.sub()));
        else ar.skip(aw);
      }
      v = arr;
    } else if (f === 6 && w === 2) {
      const obj: Record<string, unknown> = {};
      const kr = r.sub();
      for (const [kf, kw] of kr.fields()) {
        if (kf === 1 && kw === 2) keyValue(kr.sub(), obj);
        else kr.skip(kw);
      }
      v = obj;
    } else if (f === 7 && w === 2) v = Buffer.from(r.bytes()).toString('base64');
    else r.skip(w);
  }
  return v;
}

function keyValue(r: Reader, into: Record<string, unknown>): void {
  let key = '';
  let value: unknown;
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 2) key = utf8.decode(r.bytes());
    else if (f === 2 && w === 2) value = anyValue(r.sub());
    else r.skip(w);
  }
  into[key] = value;
}

function logRecord(r: Reader, resource: Record<string, unknown>, scope: FlatRecord['scope']): FlatRecord {
  const rec: FlatRecord = {
    resource,
    scope,
    timeUnixNano: '0',
    observedTimeUnixNano: undefined,
    severityNumber: 0,
    severityText: '',
    eventName: '',
    body: undefined,
    attributes: {},
    traceId: '',
    spanId: '',
  };
  for (const [f, w] of r.fields()) {
    if (f === 1 && w === 1) rec.timeUnixNano = r.fixed64().toString();
    else if (f === 11 && w === 1) rec.observedTimeUnixNano = r.fixed64().toString();
    else if (f === 2 && w === 0) rec.severityNumber = Number(r.varint());
    else if (f === 3 && w === 2) rec.severityText = utf8.decode(r.bytes());
    else if (f === 5 && w === 2) rec.body = anyValue(r.sub());
    else if (f === 6 && w === 2) keyValue(r.sub(), rec.attributes);
    else if (f === 9 && w === 2) rec.traceId = hex(r.bytes());
    else if (f === 10 && w === 2) rec.spanId = hex(r.bytes());
    else if (f === 12 && w === 2) rec.eventName = utf8.decode(r.bytes());
    else r.skip(w);
  }
  return rec;
}

/** Decode an ExportLogsServiceRequest body into flat records. Throws on malformed input. */
export function decodeLogsProto(buf: Uint8Array): FlatRecord[] {
  const out: FlatRecord[] = [];
  const top = new Reader(buf);
  for (const [f, w] of top.fields()) {
    if (f !== 1 || w !== 2) {
      top.skip(w);
      continue;
    }
    const rl = top.sub();
    const resource: Record<string, unknown> = {};
    const scopeLogs: Reader[] = [];
    for (const [rf, rw] of rl.fields()) {
      if (rf === 1 && rw === 2) {
        const res = rl.sub();
        for (const [af, aw] of res.fields()) {
          if (af === 1 && aw === 2) keyValue(res.sub(), resource);
          else res.skip(aw);
        }
      } else if (rf === 2 && rw === 2) scopeLogs.push(rl.sub());
      else rl.skip(rw);
    }
    for (const sl of scopeLogs) {
      const scope: FlatRecord['scope'] = { name: '', version: undefined };
      const records: Reader[] = [];
      for (const [sf, sw] of sl.fields()) {
        if (sf === 1 && sw === 2) {
          const sc = sl.sub();
          for (const [cf, cw] of sc.fields()) {
            if (cf === 1 && cw === 2) scope.name = utf8.decode(sc.bytes());
            else if (cf === 2 && cw === 2) scope.version = utf8.decode(sc.bytes());
            else sc.skip(cw);
          }
        } else if (sf === 2 && sw === 2) records.push(sl.sub());
        else sl.skip(sw);
      }
      for (const lr of records) out.push(logRecord(lr, resource, scope));
    }
  }
  return out;
}
