import type { IncomingMessage } from 'node:http';
import type { AnyValue } from '@opentelemetry/api-logs';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { stateOfRequest, type RequestState } from '../context/request-state';
import { normalizeUser, putUserAttributes } from '../context/user';
import { noteLoginFailure, takeLoginFailures } from '../events/api';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * passport 0.5-0.7, any strategy. passport's authenticate middleware creates one object per attempt
 * from the strategy (Object.create(passport._strategy(name))) and gives it success/fail/error before
 * calling its authenticate(). We hand it a prototype whose authenticate() wraps those three, so every
 * outcome is seen whatever the strategy: local, bearer, basic, jwt, oauth. The attempted user name comes
 * from the strategy's own username field; the password field is never read. req.login/logIn and
 * req.logout (copied onto each request by passport.initialize()) give session_created and logout.
 */
type Fn = (...args: unknown[]) => unknown;
interface StrategyLike {
  name?: string;
  _usernameField?: string;
  authenticate: Fn;
  success?: Fn;
  fail?: Fn;
  error?: Fn;
}
interface AuthenticatorLike {
  _strategy: (name: string) => StrategyLike | undefined;
}
interface PassportModule {
  Authenticator?: { prototype: AuthenticatorLike };
  Passport?: { prototype: AuthenticatorLike };
}

const kWrapped = Symbol.for('tripline.passport.strategy');

function attemptedUser(req: IncomingMessage & { body?: unknown; query?: unknown }, field: string): string | undefined {
  const pick = (o: unknown): string | undefined => {
    if (o === null || typeof o !== 'object') return undefined;
    // nested fields such as "user[email]" or "user.email" are looked up as passport does (one level)
    const v = (o as Record<string, unknown>)[field];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  };
  return pick(req.body) ?? pick(req.query);
}

function reasonOf(info: unknown, status: unknown): string {
  const msg = typeof info === 'string' ? info : info !== null && typeof info === 'object' ? String((info as { message?: unknown }).message ?? '') : '';
  if (/missing|required|no (auth|token|credentials)/i.test(msg) || status === 400) return 'missing_credentials';
  if (/(unknown|no such|not found|incorrect user|invalid user|does not exist)/i.test(msg)) return 'unknown_user';
  if (/expired/i.test(msg)) return 'expired';
  return 'bad_credentials';
}

function wrapAttempt(self: StrategyLike, req: IncomingMessage & { body?: unknown; query?: unknown }, strategyName: string): void {
  const state = stateOfRequest(req);
  const method = strategyName;
  const field = self._usernameField ?? 'username';
  const tried = attemptedUser(req, field);
  const base = (user: unknown): Record<string, AnyValue | undefined> => {
    const attrs: Record<string, AnyValue | undefined> = { 'security.auth.method': method, 'security.auth.provider': 'passport' };
    putUserAttributes(attrs, normalizeUser(user) ?? normalizeUser(tried));
    return attrs;
  };
  const opts = (s: RequestState | undefined) => ({ state: s ?? null });
  const success = self.success;
  const fail = self.fail;
  const error = self.error;
  if (typeof success === 'function') {
    self.success = function (this: unknown, user: unknown, info: unknown): unknown {
      guard('passport.success', () => {
        const u = normalizeUser(user) ?? normalizeUser(tried);
        if (state !== undefined && u !== undefined) state.user = u;
        const attrs = base(user);
        attrs['security.outcome'] = 'success';
        const fails = takeLoginFailures(normalizeUser(tried)?.name ?? u?.name ?? u?.id);
        if (fails > 0) emit('security.authn_login_successafterfail', { ...attrs, 'security.auth.previous_failures': fails }, { ...opts(state), body: `login succeeded after ${fails} failure(s)` });
        emit('security.authn_login_success', attrs, { ...opts(state), body: `login succeeded (${method})` });
      });
      return success.call(this, user, info);
    };
  }
  if (typeof fail === 'function') {
    self.fail = function (this: unknown, challenge: unknown, status: unknown): unknown {
      guard('passport.fail', () => {
        const attrs = base(undefined);
        attrs['security.outcome'] = 'failure';
        attrs['security.reason'] = reasonOf(challenge, status);
        noteLoginFailure(normalizeUser(tried)?.name);
        emit('security.authn_login_fail', attrs, { ...opts(state), body: `login failed (${method})` });
      });
      return fail.call(this, challenge, status);
    };
  }
  if (typeof error === 'function') {
    self.error = function (this: unknown, err: unknown): unknown {
      guard('passport.error', () => {
        const attrs = base(undefined);
        attrs['security.outcome'] = 'failure';
        attrs['security.reason'] = 'error';
        attrs['error.type'] = err instanceof Error ? err.name : 'error';
        emit('security.authn_login_fail', attrs, { ...opts(state), body: `login error (${method})` });
      });
      return error.call(this, err);
    };
  }
}

export class PassportInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-passport', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'passport',
        ['>=0.5.0 <1'],
        (mod: PassportModule) => {
          const proto = mod.Authenticator?.prototype ?? mod.Passport?.prototype;
          if (proto !== undefined && typeof proto._strategy === 'function') this._wrap(proto, '_strategy', (original: AuthenticatorLike['_strategy']) => patchStrategyLookup(original));
          return mod;
        },
        (mod: PassportModule) => {
          const proto = mod.Authenticator?.prototype ?? mod.Passport?.prototype;
          if (proto !== undefined) this._unwrap(proto, '_strategy');
        },
        [
          // req.logIn / req.logOut: the initialize middleware copies them from this module onto each request
          new InstrumentationNodeModuleFile(
            'passport/lib/http/request.js',
            ['>=0.5.0 <1'],
            (exp: Record<string, Fn>) => {
              for (const n of ['logIn', 'login']) if (typeof exp[n] === 'function') this._wrap(exp, n, loginWrapper);
              for (const n of ['logOut', 'logout']) if (typeof exp[n] === 'function') this._wrap(exp, n, logoutWrapper);
              return exp;
            },
            (exp: Record<string, Fn>) => {
              for (const n of ['logIn', 'login', 'logOut', 'logout']) if (exp !== undefined && typeof exp[n] === 'function') this._unwrap(exp, n);
            },
          ),
        ],
      ),
    ];
  }
}

function patchStrategyLookup(original: AuthenticatorLike['_strategy']): AuthenticatorLike['_strategy'] {
  return function (this: AuthenticatorLike, name: string): StrategyLike | undefined {
    const strategy = original.call(this, name);
    if (strategy === undefined || strategy === null || typeof strategy.authenticate !== 'function') return strategy;
    const cached = (strategy as unknown as { [kWrapped]?: StrategyLike })[kWrapped];
    if (cached !== undefined) return cached;
    // a thin prototype in front of the strategy: per-attempt objects inherit everything else unchanged
    const front = Object.create(strategy) as StrategyLike;
    const authenticate = strategy.authenticate;
    front.authenticate = function (this: StrategyLike, req: unknown, ...rest: unknown[]): unknown {
      guard('passport.attempt', () => wrapAttempt(this, req as IncomingMessage, strategy.name ?? name));
      return authenticate.call(this, req, ...rest);
    };
    try {
      Object.defineProperty(strategy, kWrapped, { value: front, enumerable: false });
    } catch {
      // frozen strategy: wrap per call
    }
    return front;
  };
}

function loginWrapper(orig: Fn): Fn {
  return function (this: IncomingMessage, user: unknown, ...rest: unknown[]): unknown {
    guard('passport.login', () => {
      const state = stateOfRequest(this);
      const u = normalizeUser(user);
      if (state !== undefined && u !== undefined) state.user = u;
      const attrs: Record<string, AnyValue | undefined> = { 'security.auth.provider': 'passport' };
      putUserAttributes(attrs, u);
      emit('security.session_created', attrs, { state: state ?? null, body: 'session created for the authenticated user' });
    });
    return orig.call(this, user, ...rest);
  };
}

function logoutWrapper(orig: Fn): Fn {
  return function (this: IncomingMessage & { user?: unknown }, ...rest: unknown[]): unknown {
    guard('passport.logout', () => {
      const state = stateOfRequest(this);
      const attrs: Record<string, AnyValue | undefined> = { 'security.auth.provider': 'passport' };
      putUserAttributes(attrs, state?.user ?? normalizeUser(this.user));
      emit('security.authn_logout', attrs, { state: state ?? null, body: 'logged out' });
    });
    return orig.apply(this, rest);
  };
}

export const passport: InstrumentationEntry = {
  name: 'passport',
  create: () => [new PassportInstrumentation()],
};
