import type { IncomingMessage, ServerResponse } from 'node:http';
import { SpanKind, SpanStatusCode, ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { AnyValue } from '@opentelemetry/api-logs';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { TriplineConfig } from '../config';
import { createRequestState, stateOfSpan, userOf, type RequestState } from '../context/request-state';
import { putUserAttributes } from '../context/user';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import type { ClientAddressResolver } from '../net/client-address';

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

function isServerRequest(req: unknown): req is IncomingMessage {
  return typeof req === 'object' && req !== null && 'socket' in req && 'httpVersion' in req && !('getHeader' in req);
}

/**
 * The upstream http instrumentation, configured to open a request state per incoming request. It creates
 * spans in tripline's own (non-exporting) tracer provider; the access records come from the span
 * processor below when each span ends, when the route and status are known.
 */
export function createHttpInstrumentation(resolver: ClientAddressResolver, hooks: RequestHooks): HttpInstrumentation {
  return new HttpInstrumentation({
    requestHook: (span: Span, request: unknown) => {
      guard('http.requestHook', () => {
        if (!isServerRequest(request)) return;
        const state = createRequestState(span, request, undefined, resolver.resolve(request));
        for (const hook of hooks.start) guard('requestStartHook', () => hook(state));
      });
    },
    responseHook: (span: Span, response: unknown) => {
      guard('http.responseHook', () => {
        const state = stateOfSpan(span);
        if (state !== undefined && state.res === undefined) (state as { res: ServerResponse | undefined }).res = response as ServerResponse;
      });
    },
  });
}

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Turns finished HTTP spans into access records and the security events their status implies. */
export class HttpRecordProcessor implements SpanProcessor {
  constructor(
    private readonly config: TriplineConfig,
    private readonly hooks: RequestHooks,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.instrumentationScope.name !== HTTP_SCOPE) return;
    guard('http.onEnd', () => {
      if (span.kind === SpanKind.SERVER) this.serverEnd(span);
      else if (span.kind === SpanKind.CLIENT) this.clientEnd(span);
    });
  }

  private serverEnd(span: ReadableSpan): void {
    const a = span.attributes;
    const state = stateOfSpan(span);
    const status = num(a['http.response.status_code']);
    const method = str(a['http.request.method']);
    const route = str(a['http.route']);
    const path = str(a['url.path']);
    const durationMs = hrTimeToMilliseconds(span.duration);

    let errorType: string | undefined;
    if (span.status.code === SpanStatusCode.ERROR) errorType = str(a['error.type']) ?? errorTypeOf(span) ?? 'error';
    const res = state?.res;
    if (res !== undefined && !res.writableFinished) errorType ??= 'client_aborted';
    const failed = errorType !== undefined;

    if (state !== undefined && this.hooks.end.length > 0) {
      const end: RequestEnd = { state, method, route, path, status, durationMs };
      for (const hook of this.hooks.end) guard('requestEndHook', () => hook(end));
    }

    // The common case (a successful request, access log off for it) stops here: nothing to record.
    const mode = this.config.httpAccessLog;
    const access = mode === 'all' || (mode === 'errors' && (failed || status === undefined || status >= 400));
    const statusEvent = status === 400 || status === 401 || status === 403 || status === 422 || status === 429;
    if (!access && !statusEvent) return;

    const attrs: Record<string, AnyValue> = {};
    if (method !== undefined) attrs['http.request.method'] = method;
    if (route !== undefined) attrs['http.route'] = route;
    if (path !== undefined) attrs['url.path'] = path;
    const query = str(a['url.query']);
    if (query !== undefined) attrs['url.query'] = query;
    if (status !== undefined) attrs['http.response.status_code'] = status;
    const clientAddress = state?.clientAddress ?? str(a['network.peer.address']);
    if (clientAddress !== undefined) attrs['client.address'] = clientAddress;
    const ua = str(a['user_agent.original']);
    if (ua !== undefined) attrs['user_agent.original'] = ua;
    const host = str(a['server.address']);
    if (host !== undefined) attrs['server.address'] = host;
    const port = num(a['server.port']);
    if (port !== undefined) attrs['server.port'] = port;
    attrs['url.scheme'] = str(a['url.scheme']) ?? 'http';
    attrs['http.server.request.duration_ms'] = Math.round(durationMs * 1000) / 1000;
    // after the hooks: a login outcome recorded for this request (by a hook, passport or the API) may have set the user
    if (state !== undefined) putUserAttributes(attrs, userOf(state));
    if (errorType !== undefined) attrs['error.type'] = errorType;
    const ctx = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(span.spanContext()));

    if (statusEvent && status !== undefined) this.statusEvents(status, attrs, state, ctx);

    if (access) {
      const body = `${method ?? '-'} ${route ?? path ?? '-'} ${status ?? '-'}`;
      emit('http.server.request', attrs, { body, state: state ?? null, context: ctx, severity: status !== undefined && status >= 500 ? 17 : failed || (status !== undefined && status >= 400) ? 13 : undefined });
    }
  }

  private statusEvents(status: number, access: Record<string, AnyValue>, state: RequestState | undefined, ctx: ReturnType<typeof trace.setSpan>): void {
    let name: string | undefined;
    let body = '';
    if (status === 401 || status === 403) {
      name = 'security.authz_fail';
      body = status === 401 ? 'unauthenticated request refused' : 'access denied';
    } else if (status === 429) {
      name = 'security.excess_rate_limit_exceeded';
      body = 'rate limit exceeded';
    } else if (status === 400 || status === 422) {
      name = 'security.input_validation_fail';
      body = 'request failed input validation';
    }
    if (name === undefined) return;
    // The app (or another instrumentation) already recorded this event for the request; a refused login
    // is an authentication failure, not an authorization one.
    if (state?.emitted?.has(name) === true) return;
    if (name === 'security.authz_fail' && state?.emitted?.has('security.authn_login_fail') === true) return;
    const attrs: Record<string, AnyValue> = { ...access };
    delete attrs['http.server.request.duration_ms'];
    attrs['security.outcome'] = 'failure';
    emit(name, attrs, { body, state: state ?? null, context: ctx });
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
