import type { AnyValue } from '@opentelemetry/api-logs';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { currentRequestState } from '../context/request-state';
import { normalizeUser, putUserAttributes } from '../context/user';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import { keyedHash } from '../internal/hash';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * Token verification (jsonwebtoken 8/9 here, jose in jose.ts): a failure is
 * security.authn_token_invalid with the reason class; a success names the request's user from the
 * token's subject. The token itself never appears: only its jti as a keyed hash, and the subject
 * under the user mode.
 */
type Fn = (...args: unknown[]) => unknown;

export function tokenReason(err: unknown): string {
  const e = err as { name?: unknown; message?: unknown; code?: unknown } | null;
  const name = String(e?.name ?? '');
  const msg = String(e?.message ?? '');
  const code = String(e?.code ?? '');
  if (name === 'TokenExpiredError' || code === 'ERR_JWT_EXPIRED' || /expired/i.test(msg)) return 'expired';
  if (name === 'NotBeforeError' || /not active|nbf|not before/i.test(msg)) return 'not_before';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || /signature/i.test(msg)) return 'bad_signature';
  if (/audience|"aud"/i.test(msg)) return 'wrong_audience';
  if (/issuer|"iss"/i.test(msg)) return 'wrong_issuer';
  if (/must be provided|missing/i.test(msg)) return 'missing';
  if (/algorithm|alg/i.test(msg) || code === 'ERR_JOSE_ALG_NOT_ALLOWED') return 'bad_algorithm';
  if (/malformed|invalid token|compact|JWSInvalid|JWTInvalid|unexpected token|base64/i.test(msg) || code === 'ERR_JWS_INVALID' || code === 'ERR_JWT_INVALID') return 'malformed';
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return 'claim_invalid';
  return 'invalid';
}

/** Claims read without trusting them, for jti/sub only; never throws. */
export function unsafeClaims(token: unknown): Record<string, unknown> | undefined {
  if (typeof token !== 'string') return undefined;
  const parts = token.split('.');
  if (parts.length !== 3 || (parts[1] ?? '').length > 16384) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function recordTokenFailure(token: unknown, err: unknown, library: string): void {
  guard('jwt.failure', () => {
    const claims = unsafeClaims(token);
    const attrs: Record<string, AnyValue | undefined> = { 'security.outcome': 'failure', 'security.reason': tokenReason(err), 'security.auth.method': 'jwt', 'security.auth.provider': library };
    if (typeof claims?.jti === 'string') attrs['security.token.id'] = keyedHash(claims.jti);
    // the subject the token claims (unverified): useful to see whose token is being forged or replayed
    if (typeof claims?.sub === 'string') putUserAttributes(attrs, { name: claims.sub });
    emit('security.authn_token_invalid', attrs, { body: `token rejected (${String(attrs['security.reason'])})` });
  });
}

export function recordTokenSuccess(payload: unknown): void {
  guard('jwt.success', () => {
    const state = currentRequestState();
    if (state === undefined || payload === null || typeof payload !== 'object') return;
    const p = payload as Record<string, unknown>;
    const u = normalizeUser({ id: p.sub, username: p.preferred_username ?? p.username ?? p.email, roles: p.roles ?? p.role });
    if (u !== undefined && state.user === undefined) state.user = u;
  });
}

export class JsonwebtokenInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-jsonwebtoken', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'jsonwebtoken',
        ['>=8.0.0 <10'],
        (mod: { verify?: Fn }) => {
          if (typeof mod.verify === 'function') this._wrap(mod, 'verify', (original: Fn | undefined) => patchVerify(original as Fn));
          return mod;
        },
        (mod: { verify?: Fn }) => {
          if (mod !== undefined && typeof mod.verify === 'function') this._unwrap(mod, 'verify');
        },
      ),
    ];
  }
}

function patchVerify(original: Fn): Fn {
  return function triplineJwtVerify(this: unknown, token: unknown, ...rest: unknown[]): unknown {
    const cbIndex = rest.findIndex((a) => typeof a === 'function');
    if (cbIndex !== -1) {
      const cb = rest[cbIndex] as Fn;
      rest[cbIndex] = function (this: unknown, err: unknown, decoded: unknown): unknown {
        if (err !== null && err !== undefined) recordTokenFailure(token, err, 'jsonwebtoken');
        else recordTokenSuccess(decoded);
        return cb.call(this, err, decoded);
      };
      return original.call(this, token, ...rest);
    }
    try {
      const decoded = original.call(this, token, ...rest);
      recordTokenSuccess(decoded);
      return decoded;
    } catch (err) {
      recordTokenFailure(token, err, 'jsonwebtoken');
      throw err;
    }
  };
}

export const jsonwebtoken: InstrumentationEntry = {
  name: 'jsonwebtoken',
  create: () => [new JsonwebtokenInstrumentation()],
};
