import { createPublicKey, verify as verifySig } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { flattenLogsJson } from '../otlp/json';
import type { FlatRecord } from '../otlp/records';
import { GENESIS_PREV, recordMac } from './canonical';

export type IssueKind = 'modified' | 'deleted' | 'reordered' | 'inserted' | 'replayed' | 'truncated_head' | 'truncated_tail' | 'bad_signature' | 'unchained';

export interface Issue {
  kind: IssueKind;
  /** 1-based position of the record in the input (file order), where it applies. */
  position?: number;
  seq?: number;
  detail: string;
}

export interface StreamReport {
  stream: string;
  service: string;
  records: number;
  verified: number;
  firstSeq: number;
  lastSeq: number;
  ended: boolean;
  checkpoints: number;
  issues: Issue[];
}

export interface VerifyReport {
  ok: boolean;
  streams: StreamReport[];
  /** Records without integrity fields (the agent ran without a key, or they were stripped). */
  unchained: number;
}

/** Read OTLP JSON: one ExportLogsServiceRequest per line (the collector's file exporter), or a JSON array of them. */
export function readOtlpFile(path: string): FlatRecord[] {
  const text = readFileSync(path, 'utf8');
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) return (JSON.parse(trimmed) as unknown[]).flatMap((doc) => flattenLogsJson(doc));
  const out: FlatRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    out.push(...flattenLogsJson(JSON.parse(line)));
  }
  return out;
}

export function verifyRecords(records: readonly FlatRecord[], key: Buffer, publicKeyPem?: string): VerifyReport {
  const pub = publicKeyPem !== undefined ? createPublicKey(publicKeyPem) : undefined;
  const byStream = new Map<string, Array<{ r: FlatRecord; pos: number }>>();
  let unchained = 0;
  records.forEach((r, i) => {
    const s = r.attributes['audit.stream.id'];
    if (typeof s !== 'string') {
      // collector alerts are derived records, not part of any agent's chain
      if (r.eventName !== 'security.alert') unchained++;
      return;
    }
    let list = byStream.get(s);
    if (list === undefined) byStream.set(s, (list = []));
    list.push({ r, pos: i + 1 });
  });

  const streams: StreamReport[] = [];
  for (const [stream, list] of byStream) {
    const issues: Issue[] = [];
    const macOf = (r: FlatRecord, seq: number, prev: string): string =>
      recordMac(
        key,
        {
          eventName: r.eventName,
          timeUnixNano: r.timeUnixNano,
          severityNumber: r.severityNumber,
          severityText: r.severityText,
          body: r.body,
          attributes: r.attributes,
          serviceName: r.resource['service.name'],
          serviceInstanceId: r.resource['service.instance.id'],
        },
        stream,
        seq,
        prev,
      );
    // 1. each record's own MAC over its content, its seq and the prev it claims
    const valid: Array<{ r: FlatRecord; pos: number; seq: number; mac: string; prev: string }> = [];
    let lastSeqInFile = 0;
    const seen = new Map<number, string>();
    for (const { r, pos } of list) {
      const seq = Number(r.attributes['audit.sequence.number']);
      const prev = String(r.attributes['audit.sequence.prev_hash'] ?? '');
      const mac = String(r.attributes['audit.integrity.mac'] ?? '');
      if (!Number.isInteger(seq) || seq < 1) {
        issues.push({ kind: 'modified', position: pos, detail: 'sequence number missing or altered' });
        continue;
      }
      if (macOf(r, seq, prev) !== mac) {
        issues.push({ kind: seen.has(seq) ? 'inserted' : 'modified', position: pos, seq, detail: seen.has(seq) ? `a second, forged record #${seq}` : `record #${seq} does not match its MAC: content, time or sequence changed` });
        continue;
      }
      const before = seen.get(seq);
      if (before !== undefined) {
        issues.push({ kind: 'replayed', position: pos, seq, detail: `record #${seq} appears again` });
        continue;
      }
      if (seq < lastSeqInFile) issues.push({ kind: 'reordered', position: pos, seq, detail: `record #${seq} comes after #${lastSeqInFile}` });
      lastSeqInFile = Math.max(lastSeqInFile, seq);
      seen.set(seq, mac);
      valid.push({ r, pos, seq, mac, prev });
    }
    // 2. the chain: every record's prev is the MAC of record seq-1; gaps are deletions
    valid.sort((a, b) => a.seq - b.seq);
    let verified = 0;
    let expectedPrev: string | undefined;
    let expectedSeq = valid[0]?.seq ?? 1;
    if (valid.length > 0 && (valid[0]?.seq ?? 1) > 1) issues.push({ kind: 'truncated_head', seq: valid[0]?.seq, detail: `the stream starts at #${valid[0]?.seq}: records #1..#${(valid[0]?.seq ?? 1) - 1} are missing` });
    let checkpoints = 0;
    for (const v of valid) {
      if (v.seq > expectedSeq) issues.push({ kind: 'deleted', position: v.pos, seq: expectedSeq, detail: `records #${expectedSeq}..#${v.seq - 1} are missing` });
      else if (expectedPrev !== undefined && v.prev !== expectedPrev) issues.push({ kind: 'inserted', position: v.pos, seq: v.seq, detail: `record #${v.seq} does not follow #${v.seq - 1}` });
      if (v.seq === 1 && v.prev !== GENESIS_PREV) issues.push({ kind: 'modified', position: v.pos, seq: 1, detail: 'the first record does not start a chain' });
      if (v.r.eventName === 'security.integrity_checkpoint') {
        checkpoints++;
        const sig = v.r.attributes['audit.integrity.signature'];
        if (pub !== undefined && typeof sig === 'string') {
          const msg = `${stream}:${String(v.r.attributes['audit.integrity.head_seq'])}:${String(v.r.attributes['audit.integrity.head'])}`;
          if (!verifySig(null, Buffer.from(msg), pub, Buffer.from(sig, 'base64'))) issues.push({ kind: 'bad_signature', position: v.pos, seq: v.seq, detail: `checkpoint #${v.seq} is not signed by the given public key` });
        }
      }
      verified++;
      expectedPrev = v.mac;
      expectedSeq = v.seq + 1;
    }
    const last = valid.at(-1);
    const ended = last?.r.eventName === 'security.integrity_end';
    if (last !== undefined && !ended) issues.push({ kind: 'truncated_tail', seq: last.seq, detail: `no end record after #${last.seq}: the tail was cut, or the process did not stop cleanly` });
    const first = list[0]?.r;
    streams.push({
      stream,
      service: `${String(first?.resource['service.name'] ?? '?')}/${String(first?.resource['service.instance.id'] ?? '?')}`,
      records: list.length,
      verified: issues.length === 0 ? verified : verified,
      firstSeq: valid[0]?.seq ?? 0,
      lastSeq: last?.seq ?? 0,
      ended,
      checkpoints,
      issues,
    });
  }
  return { ok: streams.every((s) => s.issues.length === 0) && streams.length > 0, streams, unchained };
}

export function formatReport(rep: VerifyReport): string {
  const lines: string[] = [];
  if (rep.streams.length === 0) lines.push('no tamper-evident records found (was TRIPLINE_INTEGRITY_KEY set on the agent?)');
  for (const s of rep.streams) {
    lines.push(`stream ${s.stream} (${s.service}): ${s.verified} of ${s.records} records verified, #${s.firstSeq}..#${s.lastSeq}, ${s.checkpoints} checkpoint(s), ${s.ended ? 'ended cleanly' : 'no end record'}`);
    for (const i of s.issues) lines.push(`  ${i.kind.toUpperCase()}${i.position !== undefined ? ` at position ${i.position}` : ''}: ${i.detail}`);
    if (s.issues.length === 0) lines.push('  OK');
  }
  if (rep.unchained > 0) lines.push(`${rep.unchained} record(s) carry no integrity fields`);
  lines.push(rep.ok ? 'VERIFIED' : 'FAILED');
  return lines.join('\n');
}
