import type { UserMode } from '../config';
import { keyedHash } from '../internal/hash';

/** The acting user as the records carry it. */
export interface UserInfo {
  id?: string;
  name?: string;
  roles?: string[];
}

/** What the public API accepts for a user: a name, or an object in any of the usual shapes. */
export type UserInput =
  | string
  | number
  | {
      id?: string | number;
      _id?: unknown;
      userId?: string | number;
      sub?: string;
      name?: string;
      username?: string;
      userName?: string;
      email?: string;
      login?: string;
      role?: string;
      roles?: readonly string[] | string;
    };

let mode: UserMode = 'identify';

export function setUserMode(m: UserMode): void {
  mode = m;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? (v.length > 0 ? v.slice(0, 256) : undefined) : typeof v === 'number' || typeof v === 'bigint' ? String(v) : undefined;

function rolesOf(v: unknown): string[] | undefined {
  if (typeof v === 'string') return v.length > 0 ? [v] : undefined;
  if (Array.isArray(v)) {
    const out = v.filter((r): r is string => typeof r === 'string').slice(0, 32);
    return out.length > 0 ? out : undefined;
  }
  return undefined;
}

/** Normalise any user shape to {id, name, roles}; never reads password-like fields. */
export function normalizeUser(input: unknown): UserInfo | undefined {
  if (input === null || input === undefined) return undefined;
  if (typeof input === 'string' || typeof input === 'number') {
    const s = String(input);
    return s.length > 0 ? { name: s.slice(0, 256) } : undefined;
  }
  if (typeof input !== 'object') return undefined;
  const o = input as Record<string, unknown>;
  const oid = o._id;
  const id =
    str(o.id) ??
    str(o.userId) ??
    str(o.user_id) ??
    str(o.sub) ??
    (oid !== null && oid !== undefined && typeof (oid as { toString?: unknown }).toString === 'function' ? str(String(oid)) : undefined);
  const name = str(o.username) ?? str(o.userName) ?? str(o.login) ?? str(o.email) ?? str(o.name) ?? str(o.preferred_username);
  const roles = rolesOf(o.roles) ?? rolesOf(o.role) ?? rolesOf(o.groups);
  if (id === undefined && name === undefined && roles === undefined) return undefined;
  const u: UserInfo = {};
  if (id !== undefined) u.id = id;
  if (name !== undefined) u.name = name;
  if (roles !== undefined) u.roles = roles;
  return u;
}

/** Write user attributes per TRIPLINE_USER_MODE into attrs. */
export function putUserAttributes(attrs: Record<string, unknown>, user: UserInfo | undefined): void {
  if (user === undefined || mode === 'off') return;
  if (mode === 'identify') {
    if (user.id !== undefined) attrs['user.id'] = user.id;
    if (user.name !== undefined) attrs['user.name'] = user.name;
  } else {
    if (user.id !== undefined) attrs['user.id'] = keyedHash(user.id);
    if (user.name !== undefined) attrs['user.name'] = keyedHash(user.name);
  }
  if (user.roles !== undefined) attrs['user.roles'] = user.roles;
}
