import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { VERSION } from '../version';
import { recordTokenFailure, recordTokenSuccess } from './jsonwebtoken';
import type { InstrumentationEntry } from './types';

/** jose 4-6 (jose 6 is ESM-only: its apps run with --import, whose hooks let this patch ESM exports). */
type Verify = (token: unknown, ...rest: unknown[]) => Promise<{ payload?: unknown }>;

export class JoseInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-jose', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'jose',
        ['>=4.0.0 <7'],
        (mod: Record<string, unknown>) => {
          for (const name of ['jwtVerify', 'compactVerify']) {
            if (typeof mod[name] === 'function') this._wrap(mod, name, (original: unknown) => patch(original as Verify));
          }
          return mod;
        },
        (mod: Record<string, unknown>) => {
          for (const name of ['jwtVerify', 'compactVerify']) if (mod !== undefined && typeof mod[name] === 'function') this._unwrap(mod, name);
        },
      ),
    ];
  }
}

function patch(original: Verify): Verify {
  return function triplineJoseVerify(this: unknown, token: unknown, ...rest: unknown[]) {
    return original.call(this, token, ...rest).then(
      (res) => {
        recordTokenSuccess(res?.payload);
        return res;
      },
      (err: unknown) => {
        recordTokenFailure(token, err, 'jose');
        throw err;
      },
    );
  };
}

export const jose: InstrumentationEntry = {
  name: 'jose',
  create: () => [new JoseInstrumentation()],
};
