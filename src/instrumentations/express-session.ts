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
 * express-session 1.x: session.regenerate() is security.session_renewed (what an app must do at
 * login against fixation), session.destroy() security.session_destroyed. The session id only ever as
 * a keyed hash (session.id); the cookie never.
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

export class ExpressSessionInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-express-session', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('express-session', ['>=1.0.0 <2'], undefined, undefined, [
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
