import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { context, ROOT_CONTEXT, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';
import type { AnyValue } from '@opentelemetry/api-logs';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { RandomIdGenerator } from '@opentelemetry/sdk-trace-base';
import type { TriplineConfig } from '../config';
import { createRequestState, stateOn, userOf, type RequestState } from '../context/request-state';
import { putUserAttributes } from '../context/user';
import { emit, pathOf } from '../events/emitter';
import { guard } from '../internal/diag';
import { normalizeAddress, type ClientAddressResolver } from '../net/client-address';
import { VERSION } from '../version';
import type { RequestEnd, RequestHooks } from './http';

/**
 * Incoming HTTP, the lean way: one wrapper around Server.prototype.emit (http and https) sees every
 * 'request' before the app and runs the app inside a context that carries the request's state and the
 * RPC metadata frameworks write the matched route to (the upstream Express and Koa instrumentations,
 * tripline's Fastify hook); the response's 'close' gives the outcome. No span is built per request: the
 * upstream http instrumentation's server path cost 70-95 us of CPU per request on the benchmark app,
 * this one a fraction of that (BENCHMARKS.md). Records carry a trace id per request (the caller's, from a
 * W3C traceparent header, when there is one) so that all records of one request correlate.
 *
 * The same wrapper observes 'clientError' (malformed request lines, oversized headers) without adding a
 * listener, which would stop node answering 400 itself.
 */
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
interface ServerModule {
  Server?: { prototype: { emit: Emit } };
}

const ids = new RandomIdGenerator();
const kOriginal = Symbol.for('tripline.http.server.original');
const kOurs = Symbol.for('tripline.http.server.wrapper');
type PatchableProto = { emit: Emit; [kOriginal]?: Emit };

/** The security event a response status implies, and its record's body. */
const STATUS_EVENTS: Readonly<Record<number, { name: string; body: string }>> = {
  400: { name: 'security.input_validation_fail', body: 'request failed input validation' },
  401: { name: 'security.authz_fail', body: 'unauthenticated request refused' },
  403: { name: 'security.authz_fail', body: 'access denied' },
  422: { name: 'security.input_validation_fail', body: 'request failed input validation' },
  429: { name: 'security.excess_rate_limit_exceeded', body: 'rate limit exceeded' },
};

/** The running agent's request handling; module-level because the patch is on a shared prototype. */
let active: ServerRecords | undefined;

export class ServerRecords {
  constructor(
    private readonly config: TriplineConfig,
    private readonly resolver: ClientAddressResolver,
    private readonly hooks: RequestHooks,
  ) {}

  /** Set up the request's state; returns the context the app's handler runs in. */
  start(req: IncomingMessage, res: ServerResponse): Context {
    const span = trace.wrapSpanContext(spanContextFor(req));
    const md: RPCMetadata = { type: RPCType.HTTP, span };
    const state = createRequestState(span, req, res, this.resolver.resolve(req), md);
    for (const hook of this.hooks.start) guard('requestStartHook', () => hook(state));
    res.once('close', onResponseClose);
    const ctx = setRPCMetadata(trace.setSpan(context.active(), span), md);
    // listeners the app adds to the request (body readers: they run from the socket's callbacks, in the
    // context of whoever opened the connection) run in the request's context, as with the upstream http
    // instrumentation. The response's listeners mostly run inside res.end(), already in context; not
    // binding them saves per-request closures (measured: 10-40 us of CPU per request with both bound)
    context.bind(ctx, req);
    return ctx;
  }

  end(state: RequestState, res: ServerResponse): void {
    const req = state.req;
    const md = state.rpc;
    const finished = res.writableFinished;
    const status = finished || res.headersSent ? res.statusCode : undefined;
    const method = req.method;
    const route = md.route;
    const url = req.url ?? '/';
    const path = pathOf(url);
    const durationMs = performance.now() - state.startedAt;
    let errorType: string | undefined;
    if (!finished) errorType = 'client_aborted';
    else if (status !== undefined && status >= 500) errorType = String(status);
    const failed = errorType !== undefined;

    if (this.hooks.end.length > 0) {
      const e: RequestEnd = { state, method, route, path, status, durationMs };
      for (const hook of this.hooks.end) guard('requestEndHook', () => hook(e));
    }

    // The common case (a successful request, access log off for it) stops here: nothing to record.
    const mode = this.config.httpAccessLog;
    const access = mode === 'all' || (mode === 'errors' && (failed || status === undefined || status >= 400));
    const statusEvent = status !== undefined ? STATUS_EVENTS[status] : undefined;
    if (!access && statusEvent === undefined) return;

    const attrs: Record<string, AnyValue> = {};
    if (method !== undefined) attrs['http.request.method'] = method;
    if (route !== undefined) attrs['http.route'] = route;
    attrs['url.path'] = path;
    const q = url.indexOf('?');
    if (q !== -1 && q < url.length - 1) attrs['url.query'] = url.slice(q + 1);
    if (status !== undefined) attrs['http.response.status_code'] = status;
    if (state.clientAddress !== undefined) attrs['client.address'] = state.clientAddress;
    const ua = req.headers['user-agent'];
    if (typeof ua === 'string') attrs['user_agent.original'] = ua;
    const socket = req.socket as (Socket & { encrypted?: boolean }) | undefined;
    const host = hostOf(req.headers.host);
    if (host !== undefined) {
      attrs['server.address'] = host.name;
      const port = host.port ?? socket?.localPort;
      if (port !== undefined) attrs['server.port'] = port;
    } else if (socket?.localPort !== undefined) attrs['server.port'] = socket.localPort;
    attrs['url.scheme'] = socket?.encrypted === true ? 'https' : 'http';
    attrs['http.server.request.duration_ms'] = Math.round(durationMs * 1000) / 1000;
    // after the hooks: a login outcome recorded for this request (by a hook, passport or the API) may have set the user
    putUserAttributes(attrs, userOf(state));
    if (errorType !== undefined) attrs['error.type'] = errorType;
    const ctx = md.span !== undefined ? trace.setSpan(ROOT_CONTEXT, md.span as Span) : ROOT_CONTEXT;

    if (statusEvent !== undefined) recordStatusEvent(statusEvent.name, statusEvent.body, attrs, state, ctx);
    if (access) {
      const body = `${method ?? '-'} ${route ?? path} ${status ?? '-'}`;
      emit('http.server.request', attrs, { body, state, context: ctx, severity: status !== undefined && status >= 500 ? 17 : failed || (status !== undefined && status >= 400) ? 13 : undefined });
    }
  }
}

function onResponseClose(this: ServerResponse): void {
  const state = stateOn(this);
  const records = active;
  if (state === undefined || records === undefined) return;
  guard('http.responseClose', () => records.end(state, this));
}

function recordStatusEvent(name: string, body: string, access: Record<string, AnyValue>, state: RequestState, ctx: Context): void {
  // The app (or another instrumentation) already recorded this event for the request; a refused login
  // is an authentication failure, not an authorization one.
  if (state.emitted?.has(name) === true) return;
  if (name === 'security.authz_fail' && state.emitted?.has('security.authn_login_fail') === true) return;
  const attrs: Record<string, AnyValue> = { ...access };
  delete attrs['http.server.request.duration_ms'];
  attrs['security.outcome'] = 'failure';
  emit(name, attrs, { body, state, context: ctx });
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A new span id in the caller's trace (W3C traceparent) or in a new trace. */
function spanContextFor(req: IncomingMessage): { traceId: string; spanId: string; traceFlags: number; isRemote?: boolean } {
  const tp = req.headers.traceparent;
  if (typeof tp === 'string' && tp.length === 55) {
    const m = TRACEPARENT.exec(tp);
    if (m !== null && m[1] !== '00000000000000000000000000000000' && m[2] !== '0000000000000000') {
      return { traceId: m[1] as string, spanId: ids.generateSpanId(), traceFlags: parseInt(m[3] as string, 16) & TraceFlags.SAMPLED };
    }
  }
  return { traceId: ids.generateTraceId(), spanId: ids.generateSpanId(), traceFlags: TraceFlags.NONE };
}

function hostOf(h: unknown): { name: string; port: number | undefined } | undefined {
  if (typeof h !== 'string' || h === '') return undefined;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return { name: h, port: undefined };
    const port = h.charCodeAt(end + 1) === 58 ? Number(h.slice(end + 2)) : NaN;
    return { name: h.slice(1, end), port: Number.isInteger(port) && port > 0 ? port : undefined };
  }
  const colon = h.lastIndexOf(':');
  if (colon === -1) return { name: h, port: undefined };
  const port = Number(h.slice(colon + 1));
  return { name: h.slice(0, colon), port: Number.isInteger(port) && port > 0 ? port : undefined };
}

function recordClientError(err: unknown, socket: unknown): void {
  guard('http.clientError', () => {
    const code = (err as { code?: unknown } | null)?.code;
    const s = socket as Socket | undefined;
    emit(
      'security.input_validation_fail',
      {
        'security.outcome': 'failure',
        'security.reason': 'malformed_request',
        'error.type': typeof code === 'string' ? code : 'client_error',
        'client.address': normalizeAddress(s?.remoteAddress),
        'server.port': s?.localPort,
      },
      { body: 'malformed HTTP request rejected', state: null },
    );
  });
}

function isRequest(req: unknown, res: unknown): boolean {
  return typeof req === 'object' && req !== null && typeof res === 'object' && res !== null && typeof (res as { once?: unknown }).once === 'function';
}

function patchedEmit(original: Emit): Emit {
  const wrapper = function emitWithTripline(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    const records = active;
    if (records !== undefined) {
      if (event === 'request' && isRequest(args[0], args[1]) && stateOn(args[0] as object) === undefined) {
        let ctx: Context | undefined;
        try {
          ctx = records.start(args[0] as IncomingMessage, args[1] as ServerResponse);
        } catch {
          ctx = undefined;
        }
        if (ctx !== undefined) return context.with(ctx, original, this, event, ...args);
      } else if (event === 'clientError') recordClientError(args[0], args[1]);
    }
    return original.apply(this, [event, ...args]);
  } as Emit & { [kOurs]?: true };
  wrapper[kOurs] = true;
  return wrapper;
}

export class HttpServerInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  private readonly records: ServerRecords;

  constructor(records: ServerRecords) {
    // InstrumentationBase enables from its constructor, before fields are set: take over from here
    super('tripline-instrumentation-http-server', VERSION, {});
    this.records = records;
    active = records;
  }

  override enable(): void {
    if (this.records !== undefined) active = this.records;
    super.enable();
  }

  override disable(): void {
    if (active === this.records) active = undefined;
    super.disable();
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // Not this._wrap: the prototype may already carry another wrapper we must not remove; restore only
    // what we replaced, and only while ours is the outermost.
    const def = (name: string): InstrumentationNodeModuleDefinition =>
      new InstrumentationNodeModuleDefinition(
        name,
        ['*'],
        (mod: ServerModule) => {
          const proto = mod.Server?.prototype as PatchableProto | undefined;
          if (proto !== undefined && proto[kOriginal] === undefined) {
            const original = proto.emit;
            proto[kOriginal] = original;
            proto.emit = patchedEmit(original);
          }
          return mod;
        },
        (mod: ServerModule) => {
          const proto = mod.Server?.prototype as PatchableProto | undefined;
          const original = proto?.[kOriginal];
          if (proto !== undefined && original !== undefined && (proto.emit as Emit & { [kOurs]?: true })[kOurs] === true) {
            proto.emit = original;
            delete proto[kOriginal];
          }
        },
      );
    return [def('http'), def('https')];
  }
}
