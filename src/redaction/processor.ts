import type { Context } from '@opentelemetry/api';
import type { AnyValue } from '@opentelemetry/api-logs';
import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { TriplineConfig } from '../config';
import { internalError } from '../internal/diag';
import { marker, Redactor, type Counter } from './engine';

/**
 * The first processor of the pipeline: every record, whoever emitted it (tripline's instrumentations,
 * the API, or any other code logging through tripline's provider), is scrubbed here before any other
 * processor or exporter sees it. Attribute values (nested maps and arrays too), the body and free text
 * are rewritten; what was replaced is visible as [REDACTED:<rule>] and counted in
 * tripline.redacted.count. A value that cannot be processed is replaced whole.
 */
export class RedactionProcessor implements LogRecordProcessor {
  readonly redactor: Redactor;

  constructor(config: Pick<TriplineConfig, 'redactKeys' | 'redactPatterns' | 'redactAllow' | 'redactPii'>) {
    this.redactor = new Redactor(config);
  }

  onEmit(record: ReadWriteLogRecord, _context?: Context): void {
    const c: Counter = { n: 0 };
    const attrs = record.attributes;
    for (const key in attrs) {
      const value = attrs[key] as AnyValue;
      if (value === undefined || value === null || typeof value === 'number' || typeof value === 'boolean') continue;
      let next: AnyValue;
      try {
        if (this.redactor.isSensitiveAttribute(key) && value !== '') {
          next = marker('key');
          c.n++;
        } else if (typeof value === 'string' && this.redactor.isIdentityAttribute(key)) {
          next = this.redactor.redactString(value, c, 0, true);
        } else next = this.redactor.redactValue(value, c);
      } catch (err) {
        internalError('redaction', err);
        next = marker('error');
        c.n++;
      }
      if (next !== value) record.setAttribute(key, next);
    }
    const body = record.body;
    if (body !== undefined && body !== null && typeof body !== 'number' && typeof body !== 'boolean') {
      try {
        const next = this.redactor.redactValue(body, c);
        if (next !== body) record.setBody(next);
      } catch (err) {
        internalError('redaction', err);
        record.setBody(marker('error'));
        c.n++;
      }
    }
    if (c.n > 0) record.setAttribute('tripline.redacted.count', c.n);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
