import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Context } from '@opentelemetry/api';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { TriplineConfig } from '../config';
import { internalError } from '../internal/diag';
import { GENESIS_PREV, recordMac } from './canonical';

/**
 * Tamper evidence. Placed after redaction (it covers the record as exported) and before delivery,
 * every record gets a stream id (random per process start), a sequence number and a MAC chained to
 * the previous record's: audit.stream.id, audit.sequence.number, audit.sequence.prev_hash,
 * audit.integrity.mac. Editing, deleting, inserting, reordering or replaying records, or cutting the
 * head of the stream, breaks the chain; the end record marks a clean end. Checkpoints carry the chain
 * head, signed with Ed25519 when a signing key is configured, so a third party holding only the public
 * key can check the head without being able to forge records.
 */
export class IntegrityProcessor implements LogRecordProcessor {
  readonly stream = randomUUID();
  private seq = 0;
  private prev = GENESIS_PREV;
  private readonly signingKey: KeyObject | undefined;

  constructor(private readonly key: Buffer, signingKeyFile: string | undefined) {
    this.signingKey = signingKeyFile !== undefined ? createPrivateKey(readFileSync(signingKeyFile)) : undefined;
  }

  get head(): { seq: number; mac: string } {
    return { seq: this.seq, mac: this.prev };
  }

  /** Signature over the chain head (stream:seq:mac), base64, or undefined without a signing key. */
  signHead(): string | undefined {
    if (this.signingKey === undefined) return undefined;
    return sign(null, Buffer.from(`${this.stream}:${this.seq}:${this.prev}`), this.signingKey).toString('base64');
  }

  onEmit(record: ReadWriteLogRecord, _context?: Context): void {
    try {
      const seq = ++this.seq;
      const [s, ns] = record.hrTime;
      const mac = recordMac(
        this.key,
        {
          eventName: record.eventName ?? '',
          timeUnixNano: (BigInt(s) * 1_000_000_000n + BigInt(ns)).toString(),
          severityNumber: record.severityNumber ?? 0,
          severityText: record.severityText ?? '',
          body: record.body,
          attributes: record.attributes,
          serviceName: record.resource.attributes['service.name'],
          serviceInstanceId: record.resource.attributes['service.instance.id'],
        },
        this.stream,
        seq,
        this.prev,
      );
      record.setAttribute('audit.stream.id', this.stream);
      record.setAttribute('audit.sequence.number', seq);
      record.setAttribute('audit.sequence.prev_hash', this.prev);
      record.setAttribute('audit.integrity.mac', mac);
      this.prev = mac;
    } catch (err) {
      internalError('integrity', err);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The integrity key from TRIPLINE_INTEGRITY_KEY or TRIPLINE_INTEGRITY_KEY_FILE, if any. */
export function integrityKey(config: Pick<TriplineConfig, 'integrityKey' | 'integrityKeyFile'>): Buffer | undefined {
  if (config.integrityKey !== undefined) return Buffer.from(config.integrityKey, 'utf8');
  if (config.integrityKeyFile !== undefined) {
    const k = readFileSync(config.integrityKeyFile, 'utf8').trim();
    if (k.length < 32) throw new Error(`TRIPLINE_INTEGRITY_KEY_FILE ${config.integrityKeyFile} holds fewer than 32 characters`);
    return Buffer.from(k, 'utf8');
  }
  return undefined;
}
