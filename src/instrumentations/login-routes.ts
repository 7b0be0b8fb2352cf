import type { AnyValue } from '@opentelemetry/api-logs';
import type { RequestState } from '../context/request-state';
import { normalizeUser, putUserAttributes } from '../context/user';
import { parseSmallBody, tapRequestBody, type BodyTap } from '../context/body-tap';
import { noteLoginFailure, takeLoginFailures } from '../events/api';
import { emit, pathOf } from '../events/emitter';
import { RouteMatcher } from '../net/route-pattern';
import type { RequestEnd } from './http';
import type { InstrumentationEntry } from './types';

const BODY_LIMIT = 8 * 1024;
const kTap = 'loginTap';
const LOGIN_EVENTS = ['security.authn_login_success', 'security.authn_login_fail', 'security.authn_login_lock'];

/**
 * Hand-written login routes (no passport): requests to TRIPLINE_LOGIN_ROUTES become login success or
 * failure records from the response, with the attempted user name read from the body field named by
 * TRIPLINE_LOGIN_USER_FIELDS (JSON or form), never the password. When an explicit instrumentation or
 * the API already recorded the attempt, nothing more is recorded.
 *
 * Outcome: 2xx, or a redirect elsewhere than a login page, is success; 401/403, or a redirect back to a
 * login page (or to one mentioning error/fail), is failure; 423 is a lock; 5xx a failure with reason
 * error; 400/422/429 are left to the validation and rate-limit records.
 */
export function loginRoutes(): InstrumentationEntry {
  return {
    name: 'login-routes',
    create: ({ config, hooks }) => {
      const matcher = new RouteMatcher(config.loginRoutes);
      if (matcher.empty) return [];
      const fields = config.loginUserFields;
      hooks.start.push((state: RequestState) => {
        const req = state.req;
        if (req.method !== 'POST' && req.method !== 'PUT') return;
        if (!matcher.matches(req.method, pathOf(req.url ?? '/'))) return;
        (state.slots ??= {})[kTap] = tapRequestBody(req, BODY_LIMIT);
      });
      hooks.end.push((end: RequestEnd) => {
        const { state, status } = end;
        const tap = state.slots?.[kTap] as BodyTap | undefined;
        if (tap === undefined || status === undefined) return;
        if (LOGIN_EVENTS.some((e) => state.emitted?.has(e) === true)) return;
        const outcome = classify(status, locationOf(state), matcher);
        if (outcome === undefined) return;
        const user = attemptedUser(state, tap, fields);
        const attrs: Record<string, AnyValue | undefined> = {
          'security.auth.method': 'login_route',
          'security.outcome': outcome.ok ? 'success' : 'failure',
        };
        const info = normalizeUser(user);
        putUserAttributes(attrs, info);
        const key = info?.name ?? info?.id;
        if (outcome.ok) {
          if (state.user === undefined && info !== undefined) state.user = info;
          const fails = takeLoginFailures(key);
          if (fails > 0) {
            emit('security.authn_login_successafterfail', { ...attrs, 'security.auth.previous_failures': fails }, { state, body: `login succeeded after ${fails} failure(s)` });
          }
          emit('security.authn_login_success', attrs, { state, body: 'login succeeded' });
        } else {
          attrs['security.reason'] = outcome.reason;
          noteLoginFailure(key);
          emit(outcome.lock ? 'security.authn_login_lock' : 'security.authn_login_fail', attrs, { state, body: outcome.lock ? 'account locked' : 'login failed' });
        }
      });
      return [];
    },
  };
}

function locationOf(state: RequestState): string | undefined {
  const res = state.res;
  const loc = res.getHeader('location');
  if (typeof loc === 'string') return loc;
  if (Array.isArray(loc)) return loc[0];
  // Headers passed straight to writeHead() are not kept in the header map; read the sent head.
  const head = (res as { _header?: unknown })._header;
  if (typeof head === 'string') return /\r\nlocation:[ \t]*([^\r\n]*)/i.exec(head)?.[1];
  return undefined;
}

function classify(status: number, location: string | undefined, matcher: RouteMatcher): { ok: boolean; reason?: string; lock?: boolean } | undefined {
  if (status >= 200 && status < 300) return { ok: true };
  if (status >= 300 && status < 400) {
    if (location === undefined) return { ok: true };
    let path = location;
    try {
      path = new URL(location, 'http://x').pathname;
    } catch {
      // keep the raw value
    }
    const back = matcher.matches(undefined, path) || /log-?in|sign-?in|error|fail|denied/i.test(location);
    return back ? { ok: false, reason: 'bad_credentials' } : { ok: true };
  }
  if (status === 401 || status === 403) return { ok: false, reason: 'bad_credentials' };
  if (status === 423) return { ok: false, reason: 'locked', lock: true };
  if (status >= 500) return { ok: false, reason: 'error' };
  return undefined;
}

function pick(obj: Record<string, unknown> | undefined, fields: readonly string[]): string | undefined {
  if (obj === undefined) return undefined;
  for (const f of fields) {
    const v = obj[f];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  // one level of nesting: { user: { email } }, { credentials: { username } }
  for (const k in obj) {
    const v = obj[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const f of fields) {
        const inner = (v as Record<string, unknown>)[f];
        if (typeof inner === 'string' && inner.length > 0) return inner;
      }
    }
  }
  return undefined;
}

function attemptedUser(state: RequestState, tap: BodyTap, fields: readonly string[]): string | undefined {
  const parsed = (state.req as { body?: unknown }).body;
  const fromParser = parsed !== null && typeof parsed === 'object' ? pick(parsed as Record<string, unknown>, fields) : undefined;
  if (fromParser !== undefined) return fromParser;
  return pick(parseSmallBody(state.req.headers['content-type'], tap.bytes()), fields);
}
