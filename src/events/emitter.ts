import type { Logger, LogAttributes, AnyValue } from '@opentelemetry/api-logs';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import { context as otelContext, type Context } from '@opentelemetry/api';
import { eventDef, severityText } from './vocabulary';
import { currentRequestState, currentRoute, markEmitted, userOf, type RequestState } from '../context/request-state';
import { putUserAttributes } from '../context/user';
import { internalError } from '../internal/diag';

let logger: Logger | undefined;

/** Set by the agent when it starts; undefined means the agent is off and emit() is a no-op. */
export function setLogger(l: Logger | undefined): void {
  logger = l;
}

export function isEmitting(): boolean {
  return logger !== undefined;
}

export interface EmitOptions {
  /** Human sentence for the record body. */
  body?: string;
  /** Override the vocabulary's severity. */
  severity?: SeverityNumber;
  /** The request this belongs to; default: the one in the current async context. null: none. */
  state?: RequestState | null;
  /** OTel context for trace/span ids; default: active context. */
  context?: Context;
  /** Event time in ms since epoch (default: now). */
  timestamp?: number;
}

/**
 * Emit one record. The hot path: one attribute object, no copies; redaction happens in the first log
 * processor. Never throws.
 */
export function emit(name: string, attributes: Record<string, AnyValue | undefined>, opts?: EmitOptions): void {
  const l = logger;
  if (l === undefined) return;
  try {
    const def = eventDef(name);
    const attrs = attributes as Record<string, unknown>;
    attrs['event.name'] = name;
    attrs['security.event.category'] = def.category;
    const state = opts?.state === null ? undefined : (opts?.state ?? currentRequestState());
    if (state !== undefined) {
      if (attrs['client.address'] === undefined && state.clientAddress !== undefined) attrs['client.address'] = state.clientAddress;
      if (attrs['user.id'] === undefined && attrs['user.name'] === undefined) putUserAttributes(attrs, userOf(state));
      if (attrs['http.request.method'] === undefined && state.req.method !== undefined) attrs['http.request.method'] = state.req.method;
      if (attrs['url.path'] === undefined && state.req.url !== undefined) attrs['url.path'] = pathOf(state.req.url);
      if (attrs['http.route'] === undefined) {
        const route = currentRoute(state);
        if (route !== undefined) attrs['http.route'] = route;
      }
      if (name.startsWith('security.')) markEmitted(state, name);
    }
    for (const k in attrs) if (attrs[k] === undefined) delete attrs[k];
    const severity = opts?.severity ?? def.severity;
    l.emit({
      eventName: name,
      severityNumber: severity,
      severityText: severityText(severity),
      body: opts?.body ?? name,
      attributes: attrs as LogAttributes,
      context: opts?.context ?? otelContext.active(),
      ...(opts?.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
    });
  } catch (err) {
    internalError(`emit(${name})`, err);
  }
}

/** The path part of a request URL, without query or fragment. */
export function pathOf(url: string): string {
  let end = url.length;
  const q = url.indexOf('?');
  if (q !== -1) end = q;
  const h = url.indexOf('#');
  if (h !== -1 && h < end) end = h;
  return end === url.length ? url : url.slice(0, end);
}
