import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { AnyValue } from '@opentelemetry/api-logs';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TriplineConfig } from '../config';
import type { RequestState } from '../context/request-state';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';

const HTTP_SCOPE = '@opentelemetry/instrumentation-http';

/** What a request-end hook learns about a finished server request. */
export interface RequestEnd {
  readonly state: RequestState;
  readonly method: string | undefined;
  readonly route: string | undefined;
  readonly path: string | undefined;
  readonly status: number | undefined;
  readonly durationMs: number;
}

export type RequestEndHook = (end: RequestEnd) => void;
export type RequestStartHook = (state: RequestState) => void;

/**
 * Instrumentations that derive security meaning from requests (login routes, admin routes) add hooks
 * here; one instance per agent, shared by the http instrumentation and the record processor.
 */
export interface RequestHooks {
  readonly start: RequestStartHook[];
  readonly end: RequestEndHook[];
}


/**
 * The upstream http instrumentation, for outgoing requests only (incoming ones go through
 * http-server.ts): client spans in tripline's own (non-exporting) tracer provider, turned into
 * http.client.request records by the span processor below.
 */
export function createHttpClientInstrumentation(): HttpInstrumentation {
  return new HttpInstrumentation({ disableIncomingRequestInstrumentation: true });
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Turns finished outgoing HTTP spans into http.client.request records. */
export class HttpRecordProcessor implements SpanProcessor {
  constructor(private readonly config: TriplineConfig) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.instrumentationScope.name !== HTTP_SCOPE || span.kind !== SpanKind.CLIENT) return;
    guard('http.onEnd', () => this.clientEnd(span));
  }

  private clientEnd(span: ReadableSpan): void {
    const mode = this.config.httpAccessLog;
    if (mode === 'none') return;
    const a = span.attributes;
    const status = num(a['http.response.status_code']);
    const failed = span.status.code === SpanStatusCode.ERROR;
    if (mode === 'errors' && !failed && (status === undefined || status < 400)) return;
    const attrs: Record<string, AnyValue> = {};
    const method = str(a['http.request.method']);
    if (method !== undefined) attrs['http.request.method'] = method;
    const host = str(a['server.address']);
    if (host !== undefined) attrs['server.address'] = host;
    const port = num(a['server.port']);
    if (port !== undefined) attrs['server.port'] = port;
    const full = str(a['url.full']);
    if (full !== undefined) attrs['url.full'] = full;
    if (status !== undefined) attrs['http.response.status_code'] = status;
    attrs['http.client.request.duration_ms'] = Math.round(hrTimeToMilliseconds(span.duration) * 1000) / 1000;
    if (failed) attrs['error.type'] = str(a['error.type']) ?? errorTypeOf(span) ?? 'error';
    const ctx = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(span.spanContext()));
    emit('http.client.request', attrs, { body: `${method ?? '-'} ${host ?? '-'} ${status ?? 'failed'}`, context: ctx, state: null });
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function errorTypeOf(span: ReadableSpan): string | undefined {
  for (const ev of span.events) {
    if (ev.name === 'exception') {
      const t = ev.attributes?.['exception.type'];
      if (typeof t === 'string') return t;
    }
  }
  return undefined;
}
