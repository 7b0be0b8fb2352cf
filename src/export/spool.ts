import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { HrTime, SpanContext } from '@opentelemetry/api';
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/**
 * A bounded, crash-safe on-disk queue of log records, used while the endpoint is unreachable and for
 * whatever is still buffered when the process exits. Each segment is one file written to a temporary
 * name, fsync'd, then renamed: a segment is either whole or absent. The content carries a SHA-256 of
 * its body, so a torn or altered segment is detected and set aside, never replayed half.
 *
 * Segments are named <seq>-<prio>.json: seq orders replay, prio (s = security events, l = access and
 * query records) decides eviction when the spool is full: oldest low-priority segments go first.
 */
export interface SpooledRecord {
  t: HrTime;
  o: HrTime;
  sc?: SpanContext;
  sn?: number;
  st?: string;
  b?: AnyValue;
  a: LogAttributes;
  e?: string;
  d: number;
  r: Record<string, AnyValue>;
  s: { name: string; version?: string; schemaUrl?: string };
}

export function toSpooled(r: ReadableLogRecord): SpooledRecord {
  const out: SpooledRecord = { t: r.hrTime, o: r.hrTimeObserved, a: r.attributes, d: r.droppedAttributesCount, r: r.resource.attributes as Record<string, AnyValue>, s: { name: r.instrumentationScope.name } };
  if (r.spanContext !== undefined) out.sc = r.spanContext;
  if (r.severityNumber !== undefined) out.sn = r.severityNumber;
  if (r.severityText !== undefined) out.st = r.severityText;
  if (r.body !== undefined) out.b = r.body;
  if (r.eventName !== undefined) out.e = r.eventName;
  if (r.instrumentationScope.version !== undefined) out.s.version = r.instrumentationScope.version;
  if (r.instrumentationScope.schemaUrl !== undefined) out.s.schemaUrl = r.instrumentationScope.schemaUrl;
  return out;
}

const resources = new Map<string, Resource>();

/** Rebuild a record the upstream exporters can serialize. */
export function fromSpooled(s: SpooledRecord): ReadableLogRecord {
  const key = JSON.stringify(s.r);
  let resource = resources.get(key);
  if (resource === undefined) {
    resource = resourceFromAttributes(s.r as Parameters<typeof resourceFromAttributes>[0]);
    if (resources.size > 64) resources.clear();
    resources.set(key, resource);
  }
  return {
    hrTime: s.t,
    hrTimeObserved: s.o,
    spanContext: s.sc,
    severityNumber: s.sn,
    severityText: s.st,
    body: s.b,
    eventName: s.e,
    resource,
    instrumentationScope: s.s,
    attributes: s.a,
    droppedAttributesCount: s.d,
  } as ReadableLogRecord;
}

export interface Segment {
  file: string;
  seq: number;
  prio: 's' | 'l';
  bytes: number;
  records: number;
}

const NAME = /^(\d{16})-([sl])-(\d+)\.json$/;

export class Spool {
  private segments: Segment[] = [];
  private nextSeq = 1;
  private bytes = 0;
  private ready = false;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
    private readonly onDrop: (records: number, reason: string) => void,
  ) {}

  /** Load the segments a previous run left (synchronously; called once). */
  open(): void {
    if (this.ready) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const f of readdirSync(this.dir)) {
      const m = NAME.exec(f);
      if (m === null) {
        if (f.endsWith('.tmp')) safeUnlink(join(this.dir, f));
        continue;
      }
      let size = 0;
      try {
        size = statSync(join(this.dir, f)).size;
      } catch {
        continue;
      }
      const seg: Segment = { file: f, seq: Number(m[1]), prio: m[2] as 's' | 'l', bytes: size, records: Number(m[3]) };
      this.segments.push(seg);
      this.bytes += size;
      if (seg.seq >= this.nextSeq) this.nextSeq = seg.seq + 1;
    }
    this.segments.sort((a, b) => a.seq - b.seq);
    this.ready = true;
  }

  get size(): number {
    return this.segments.length;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get totalRecords(): number {
    let n = 0;
    for (const s of this.segments) n += s.records;
    return n;
  }

  /** Append records durably (sync: also used from the process 'exit' handler). Returns records written. */
  write(records: readonly ReadableLogRecord[]): number {
    this.open();
    const sec: SpooledRecord[] = [];
    const low: SpooledRecord[] = [];
    for (const r of records) (r.eventName?.startsWith('security.') === true ? sec : low).push(toSpooled(r));
    // keep order: one segment per priority, in emission order within each; replay is by seq
    let written = 0;
    for (const [prio, list] of [['s', sec], ['l', low]] as const) {
      if (list.length === 0) continue;
      const body = JSON.stringify(list);
      const sum = createHash('sha256').update(body).digest('hex');
      const content = `${sum}\n${body}`;
      const seq = this.nextSeq++;
      const file = `${String(seq).padStart(16, '0')}-${prio}-${list.length}.json`;
      const tmp = join(this.dir, `${file}.tmp`);
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, content);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.dir, file));
      const seg: Segment = { file, seq, prio, bytes: Buffer.byteLength(content), records: list.length };
      this.segments.push(seg);
      this.bytes += seg.bytes;
      written += list.length;
    }
    this.enforceCap();
    return written;
  }

  private enforceCap(): void {
    while (this.bytes > this.maxBytes && this.segments.length > 1) {
      const victim = this.segments.find((s) => s.prio === 'l') ?? this.segments[0];
      if (victim === undefined) break;
      this.remove(victim);
      this.onDrop(victim.records, victim.prio === 'l' ? 'spool_full_low_priority' : 'spool_full');
    }
  }

  /** The oldest segment, read and verified; a corrupt one is set aside (renamed .bad) and counted. */
  peek(): { seg: Segment; records: ReadableLogRecord[] } | undefined {
    this.open();
    for (;;) {
      const seg = this.segments[0];
      if (seg === undefined) return undefined;
      try {
        const content = readFileSync(join(this.dir, seg.file), 'utf8');
        const nl = content.indexOf('\n');
        const sum = content.slice(0, nl);
        const body = content.slice(nl + 1);
        if (createHash('sha256').update(body).digest('hex') !== sum) throw new Error('checksum mismatch');
        const list = JSON.parse(body) as SpooledRecord[];
        return { seg, records: list.map(fromSpooled) };
      } catch {
        try {
          renameSync(join(this.dir, seg.file), join(this.dir, `${seg.file}.bad`));
        } catch {
          // already gone
        }
        this.segments.shift();
        this.bytes -= seg.bytes;
        this.onDrop(seg.records, 'spool_corrupt');
      }
    }
  }

  /** Acknowledge the segment peek() returned: it was delivered. */
  ack(seg: Segment): void {
    this.remove(seg);
  }

  private remove(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i === -1) return;
    this.segments.splice(i, 1);
    this.bytes -= seg.bytes;
    safeUnlink(join(this.dir, seg.file));
  }
}

function safeUnlink(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // nothing to remove
  }
}
