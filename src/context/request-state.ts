import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { context } from '@opentelemetry/api';
import { getRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import { normalizeUser, type UserInfo } from './user';

/**
 * Per-request state the agent keeps beside the app's request: who is acting, from where, and which
 * security events this request already produced (so heuristics do not record an attempt twice).
 *
 * It is found three ways: from the request or response object (setUser(req, ...), the response's 'close'),
 * from the request's span, and from the active OTel context (events emitted anywhere inside the request's
 * async work, via the RPC metadata the http instrumentation stores).
 */
export interface RequestState {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  clientAddress: string | undefined;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** The RPC metadata in the request's context, where frameworks write the matched route. */
  readonly rpc: RPCMetadata;
  user: UserInfo | undefined;
  /** Event names already emitted for this request (lazily created). */
  emitted: Set<string> | undefined;
  /** Free-form slots instrumentations may use (e.g. the parsed login user name). */
  slots: Record<string, unknown> | undefined;
}

const kState = Symbol.for('tripline.requestState');

type WithState = { [kState]?: RequestState };

export function createRequestState(span: object, req: IncomingMessage, res: ServerResponse, clientAddress: string | undefined, rpc: RPCMetadata): RequestState {
  const state: RequestState = { req, res, clientAddress, startedAt: performance.now(), rpc, user: undefined, emitted: undefined, slots: undefined };
  // a property on the span, the request and the response, not a WeakMap: one ephemeron per request
  // made every scavenge slower (measured: GC time doubled under load)
  (span as WithState)[kState] = state;
  (req as WithState)[kState] = state;
  (res as WithState)[kState] = state;
  return state;
}

/** The state attached to this very object (a request, a response or a request's span), if any. */
export function stateOn(target: object): RequestState | undefined {
  return (target as WithState)[kState];
}

export function stateOfRequest(req: unknown): RequestState | undefined {
  if (req === null || typeof req !== 'object') return undefined;
  const direct = (req as WithState)[kState];
  if (direct !== undefined) return direct;
  // Frameworks wrap the node request (Koa ctx.req, Fastify request.raw).
  const o = req as { req?: unknown; raw?: unknown; request?: unknown };
  for (const inner of [o.req, o.raw]) {
    if (inner !== null && typeof inner === 'object') {
      const s = (inner as WithState)[kState];
      if (s !== undefined) return s;
    }
  }
  return undefined;
}

/** The request being served in the current async context, if any. */
export function currentRequestState(): RequestState | undefined {
  const md = getRPCMetadata(context.active());
  return md?.span !== undefined ? (md.span as WithState)[kState] : undefined;
}

/**
 * The route the framework matched so far, if the active context belongs to `state`'s request (or to
 * any request when state is undefined). Completion callbacks of pooled connections can run in another
 * request's context, so a route is only taken from the context when it is the same request.
 */
export function currentRoute(state?: RequestState): string | undefined {
  const md = getRPCMetadata(context.active());
  if (md === undefined) return undefined;
  if (state !== undefined && (md.span === undefined || (md.span as WithState)[kState] !== state)) return undefined;
  return md.route;
}

/**
 * The acting user of a request: what setUser or an auth instrumentation set, else the conventional
 * req.user that passport (after deserializing the session), express-jwt and most auth middleware set.
 */
export function userOf(state: RequestState): UserInfo | undefined {
  if (state.user !== undefined) return state.user;
  const u = (state.req as { user?: unknown }).user;
  if (u === undefined || u === null || typeof u !== 'object') return undefined;
  state.user = normalizeUser(u);
  return state.user;
}

export function markEmitted(state: RequestState, name: string): void {
  (state.emitted ??= new Set()).add(name);
}
