import type { AnyValue } from '@opentelemetry/api-logs';
import { emit, type EmitOptions } from './emitter';
import { normalizeUser, putUserAttributes, type UserInput } from '../context/user';
import { currentRequestState, stateOfRequest } from '../context/request-state';
import { guard } from '../internal/diag';

/** Attribute values the public API accepts. */
export type AttributeValue = string | number | boolean | readonly string[] | readonly number[] | null | undefined;
export type Attributes = Readonly<Record<string, AttributeValue>>;

export interface LoginInfo {
  /** The user who tried (name, id, or a user object). */
  user?: UserInput;
  /** How: password, oauth, jwt, api_key, ... */
  method?: string;
  attributes?: Attributes;
}

export interface LoginFailInfo extends LoginInfo {
  /** Why: bad_credentials, unknown_user, locked, mfa_failed, error, ... */
  reason?: string;
}

export interface AccessDeniedInfo {
  user?: UserInput;
  /** What was refused (route, object id, action). */
  resource?: string;
  reason?: string;
  attributes?: Attributes;
}

export interface PrivilegeChangeInfo {
  /** Who made the change (default: the request's user). */
  user?: UserInput;
  /** Whose privileges changed. */
  target: UserInput;
  from?: string | readonly string[];
  to?: string | readonly string[];
  attributes?: Attributes;
}

export interface AccountInfo {
  /** Who acted (default: the request's user). */
  user?: UserInput;
  /** The account concerned. */
  target: UserInput;
  attributes?: Attributes;
}

export interface AdminActionInfo {
  user?: UserInput;
  action: string;
  attributes?: Attributes;
}

function base(user: UserInput | undefined, extra: Attributes | undefined): Record<string, AnyValue | undefined> {
  const attrs: Record<string, AnyValue | undefined> = {};
  if (extra !== undefined) for (const k in extra) attrs[k] = extra[k] as AnyValue | undefined;
  if (user !== undefined) putUserAttributes(attrs, normalizeUser(user));
  return attrs;
}

function target(attrs: Record<string, AnyValue | undefined>, t: UserInput): void {
  const tmp: Record<string, unknown> = {};
  putUserAttributes(tmp, normalizeUser(t));
  if (tmp['user.id'] !== undefined) attrs['security.target.user.id'] = tmp['user.id'] as string;
  if (tmp['user.name'] !== undefined) attrs['security.target.user.name'] = tmp['user.name'] as string;
}

const roleValue = (v: string | readonly string[] | undefined): AnyValue | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : [...v];

const failedLogins = new Map<string, number>();
const MAX_TRACKED = 10_000;

/** Remember failures per user so a later success is reported as successafterfail (in this process). */
export function noteLoginFailure(userKey: string | undefined): void {
  if (userKey === undefined) return;
  if (failedLogins.size >= MAX_TRACKED && !failedLogins.has(userKey)) {
    const first = failedLogins.keys().next();
    if (first.done !== true) failedLogins.delete(first.value);
  }
  failedLogins.set(userKey, (failedLogins.get(userKey) ?? 0) + 1);
}

/** Returns the number of failures before this success (and forgets them). */
export function takeLoginFailures(userKey: string | undefined): number {
  if (userKey === undefined) return 0;
  const n = failedLogins.get(userKey) ?? 0;
  if (n > 0) failedLogins.delete(userKey);
  return n;
}

function userKey(user: UserInput | undefined): string | undefined {
  const u = normalizeUser(user);
  return u?.name ?? u?.id;
}

/** The explicit API for what instrumentation cannot see. Every function is safe to call with anything. */
export const events = {
  loginSucceeded(info: LoginInfo = {}): void {
    guard('events.loginSucceeded', () => {
      const attrs = base(info.user, info.attributes);
      attrs['security.outcome'] = 'success';
      if (info.method !== undefined) attrs['security.auth.method'] = info.method;
      const fails = takeLoginFailures(userKey(info.user));
      if (fails > 0) {
        attrs['security.auth.previous_failures'] = fails;
        emit('security.authn_login_successafterfail', { ...attrs }, { body: `login succeeded after ${fails} failure(s)` });
      }
      emit('security.authn_login_success', attrs, { body: 'login succeeded' });
    });
  },
  loginFailed(info: LoginFailInfo = {}): void {
    guard('events.loginFailed', () => {
      const attrs = base(info.user, info.attributes);
      attrs['security.outcome'] = 'failure';
      attrs['security.reason'] = info.reason ?? 'bad_credentials';
      if (info.method !== undefined) attrs['security.auth.method'] = info.method;
      noteLoginFailure(userKey(info.user));
      emit('security.authn_login_fail', attrs, { body: 'login failed' });
    });
  },
  accessDenied(info: AccessDeniedInfo = {}): void {
    guard('events.accessDenied', () => {
      const attrs = base(info.user, info.attributes);
      attrs['security.outcome'] = 'failure';
      if (info.resource !== undefined) attrs['security.resource'] = info.resource;
      if (info.reason !== undefined) attrs['security.reason'] = info.reason;
      emit('security.authz_fail', attrs, { body: 'access denied' });
    });
  },
  privilegeChanged(info: PrivilegeChangeInfo): void {
    guard('events.privilegeChanged', () => {
      const attrs = base(info.user, info.attributes);
      target(attrs, info.target);
      attrs['security.privilege.from'] = roleValue(info.from);
      attrs['security.privilege.to'] = roleValue(info.to);
      emit('security.authz_change', attrs, { body: 'privileges changed' });
    });
  },
  userCreated(info: AccountInfo): void {
    guard('events.userCreated', () => {
      const attrs = base(info.user, info.attributes);
      target(attrs, info.target);
      emit('security.user_created', attrs, { body: 'user created' });
    });
  },
  userDeleted(info: AccountInfo): void {
    guard('events.userDeleted', () => {
      const attrs = base(info.user, info.attributes);
      target(attrs, info.target);
      emit('security.user_deleted', attrs, { body: 'user deleted' });
    });
  },
  passwordChanged(info: { user?: UserInput; success?: boolean; reason?: string; attributes?: Attributes } = {}): void {
    guard('events.passwordChanged', () => {
      const attrs = base(info.user, info.attributes);
      const ok = info.success !== false;
      attrs['security.outcome'] = ok ? 'success' : 'failure';
      if (info.reason !== undefined) attrs['security.reason'] = info.reason;
      emit(ok ? 'security.authn_password_change' : 'security.authn_password_change_fail', attrs, {
        body: ok ? 'password changed' : 'password change failed',
      });
    });
  },
  adminAction(info: AdminActionInfo): void {
    guard('events.adminAction', () => {
      const attrs = base(info.user, info.attributes);
      attrs['security.admin.action'] = info.action;
      emit('security.authz_admin', attrs, { body: `admin action ${info.action}` });
    });
  },
  /** Any event: `name` is an OWASP vocabulary name (`authn_login_lock`) or a full `security.*` name. */
  emit(name: string, attributes: Attributes = {}, opts: Pick<EmitOptions, 'body'> = {}): void {
    guard('events.emit', () => {
      if (typeof name !== 'string' || name.length === 0) return;
      const full = name.includes('.') ? name : `security.${name}`;
      emit(full, base(undefined, attributes), opts);
    });
  },
};

/**
 * Attach the authenticated user to the request, so every later record of that request carries
 * user.id / user.name / user.roles. Accepts the node request or a framework wrapper (Express req,
 * Koa ctx, Fastify request); with no request, the current one.
 */
export function setUser(req: unknown, user: UserInput | null | undefined): void {
  guard('setUser', () => {
    const state = stateOfRequest(req) ?? currentRequestState();
    if (state === undefined) return;
    state.user = normalizeUser(user);
  });
}
