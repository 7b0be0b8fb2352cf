import type { AnyValue } from '@opentelemetry/api-logs';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { stateOfRequest } from '../context/request-state';
import { putUserAttributes } from '../context/user';
import { userOf } from '../context/request-state';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import { keyedHash } from '../internal/hash';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * express-session 1.x:
 * - a new session saved for the first time (a cookie is issued) is security.session_created;
 * - session.regenerate() is security.session_renewed (what an app must do at login against fixation);
 * - session.destroy() is security.session_destroyed;
 * - a request whose session cookie names a session the store no longer has (expired, destroyed, or never
 *   issued) is security.session_use_after_expire, and a session cookie whose signature does not verify
 *   (forged, tampered, or signed with a retired secret) is security.input_validation_fail.
 * The session id only ever as a keyed hash (session.id); the cookie never.
 */
type Fn = (...args: unknown[]) => unknown;
interface SessionLike {
  id?: string;
  req?: unknown;
}

function record(name: string, session: SessionLike, body: string): void {
  guard(`express-session.${name}`, () => {
    const state = stateOfRequest(session.req);
    const attrs: Record<string, AnyValue | undefined> = {};
    if (typeof session.id === 'string') attrs['session.id'] = keyedHash(session.id);
    if (state !== undefined) putUserAttributes(attrs, userOf(state));
    emit(name, attrs, { state: state ?? null, body });
  });
}

/** Marks a session the middleware just generated: its first save issues the cookie. A symbol property
 * (JSON and for-in skip it), not a WeakSet: a weak entry per request slows every scavenge. */
const kFresh = Symbol('tripline.session.fresh');
type Markable = { [kFresh]?: boolean };

interface ReqLike {
  headers?: { cookie?: unknown };
  session?: unknown;
  sessionID?: unknown;
}

/** The raw value of cookie `needle` ("name=") in a Cookie header, without parsing the rest. */
function cookieValue(header: unknown, needle: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  let at = header.indexOf(needle);
  while (at !== -1) {
    const before = at === 0 ? 59 : header.charCodeAt(at - 1);
    if (before === 59 || before === 32 || before === 9) {
      const start = at + needle.length;
      const end = header.indexOf(';', start);
      return header.slice(start, end === -1 ? header.length : end).trim();
    }
    at = header.indexOf(needle, at + 1);
  }
  return undefined;
}

/** The session id a cookie claims: "s:<id>.<signature>", URL-encoded. */
function claimedId(raw: string): string {
  let v = raw;
  if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  try {
    v = decodeURIComponent(v);
  } catch {
    // keep it as sent
  }
  if (v.startsWith('s:')) {
    const dot = v.lastIndexOf('.');
    return v.slice(2, dot > 2 ? dot : v.length);
  }
  return v;
}

function inspect(req: ReqLike, raw: string | undefined, sync: boolean): void {
  const session = req.session;
  if (session === null || typeof session !== 'object') return;
  if (raw === undefined || raw === '') {
    (session as Markable)[kFresh] = true;
    return;
  }
  const claimed = claimedId(raw);
  if (claimed === req.sessionID) return; // the store knew it
  (session as Markable)[kFresh] = true;
  const state = stateOfRequest(req);
  const attrs: Record<string, AnyValue | undefined> = { 'session.id': keyedHash(claimed), 'security.outcome': 'failure' };
  if (state !== undefined) putUserAttributes(attrs, userOf(state));
  if (sync) {
    // express-session only skips the store when the cookie is unsigned or its signature fails
    attrs['security.reason'] = 'session_cookie_signature';
    emit('security.input_validation_fail', attrs, { state: state ?? null, body: 'session cookie with an invalid signature' });
  } else {
    attrs['security.reason'] = 'unknown_or_expired_session';
    emit('security.session_use_after_expire', attrs, { state: state ?? null, body: 'request with an expired or unknown session id' });
  }
}

/** Wrap the middleware session() returns: see which session the request's cookie claimed and what came of it. */
function wrapMiddleware(mw: unknown, cookieName: string): unknown {
  if (typeof mw !== 'function') return mw;
  const needle = `${cookieName}=`;
  const inner = mw as Fn;
  return function trackedSession(this: unknown, req: unknown, res: unknown, next: unknown): unknown {
    const r = req as ReqLike | null;
    if (r === null || typeof r !== 'object' || typeof next !== 'function' || r.session !== undefined) return inner.call(this, req, res, next);
    let raw: string | undefined;
    try {
      raw = cookieValue(r.headers?.cookie, needle);
    } catch {
      raw = undefined;
    }
    let sync = true;
    const after = function (this: unknown, ...args: unknown[]): unknown {
      guard('express-session.lookup', () => inspect(r, raw, sync));
      return (next as Fn).apply(this, args);
    };
    try {
      return inner.call(this, req, res, after);
    } finally {
      sync = false;
    }
  };
}

const kOriginal = Symbol.for('tripline.express-session.original');

export class ExpressSessionInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-express-session', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'express-session',
        ['>=1.0.0 <2'],
        (exports: unknown) => {
          if (typeof exports !== 'function' || (exports as { [kOriginal]?: unknown })[kOriginal] !== undefined) return exports;
          const original = exports as Fn;
          const wrapped = function session(this: unknown, options?: { name?: unknown; key?: unknown }): unknown {
            const mw = original.call(this, options);
            const name = typeof options?.name === 'string' && options.name !== '' ? options.name : typeof options?.key === 'string' && options.key !== '' ? options.key : 'connect.sid';
            return wrapMiddleware(mw, name);
          };
          Object.assign(wrapped, exports); // Store, Cookie, Session, MemoryStore
          Object.defineProperty(wrapped, kOriginal, { value: original });
          return wrapped;
        },
        (exports: unknown) => (exports as { [kOriginal]?: unknown } | undefined)?.[kOriginal] ?? exports,
        [
        new InstrumentationNodeModuleFile(
          'express-session/session/session.js',
          ['>=1.0.0 <2'],
          (Session: { prototype: Record<string, Fn> }) => {
            const proto = Session?.prototype;
            if (proto === undefined) return Session;
            this._wrap(proto, 'regenerate', (orig: Fn) =>
              function (this: SessionLike, ...args: unknown[]): unknown {
                record('security.session_renewed', this, 'session id renewed');
                return orig.apply(this, args);
              },
            );
            this._wrap(proto, 'save', (orig: Fn) =>
              function (this: SessionLike, ...args: unknown[]): unknown {
                if ((this as Markable)[kFresh] === true) {
                  (this as Markable)[kFresh] = false;
                  record('security.session_created', this, 'new session issued');
                }
                return orig.apply(this, args);
              },
            );
            this._wrap(proto, 'destroy', (orig: Fn) =>
              function (this: SessionLike, ...args: unknown[]): unknown {
                record('security.session_destroyed', this, 'session destroyed');
                return orig.apply(this, args);
              },
            );
            return Session;
          },
          (Session: { prototype: Record<string, Fn> }) => {
            if (Session?.prototype === undefined) return;
            this._unwrap(Session.prototype, 'regenerate');
            this._unwrap(Session.prototype, 'destroy');
            this._unwrap(Session.prototype, 'save');
          },
        ),
      ]),
    ];
  }
}

export const expressSession: InstrumentationEntry = {
  name: 'express-session',
  create: () => [new ExpressSessionInstrumentation()],
};
