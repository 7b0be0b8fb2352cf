import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { guard } from '../internal/diag';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * Fastify 4/5: the upstream fastify instrumentation is retired, so tripline records the matched route
 * itself: every instance the factory creates gets an onRequest hook that writes the route template to
 * the request's RPC metadata, where the HTTP layer reads http.route from.
 */
const kOriginal = Symbol.for('tripline.fastify.original');

type FastifyFactory = ((...args: unknown[]) => unknown) & { [kOriginal]?: FastifyFactory; default?: unknown; fastify?: unknown };

interface FastifyRequestLike {
  routeOptions?: { url?: string };
  routerPath?: string;
}

function onRequest(request: FastifyRequestLike, _reply: unknown, done: () => void): void {
  guard('fastify.onRequest', () => {
    const md = getRPCMetadata(context.active());
    const route = request.routeOptions?.url ?? request.routerPath;
    if (md?.type === RPCType.HTTP && typeof route === 'string') md.route = route;
  });
  done();
}

function wrapFactory(original: FastifyFactory): FastifyFactory {
  if (typeof original !== 'function' || original[kOriginal] !== undefined) return original;
  const wrapped = function fastify(this: unknown, ...args: unknown[]): unknown {
    const app = original.apply(this, args) as { addHook?: (name: string, fn: typeof onRequest) => unknown };
    guard('fastify.addHook', () => app?.addHook?.('onRequest', onRequest));
    return app;
  } as FastifyFactory;
  Object.assign(wrapped, original);
  wrapped.default = wrapped;
  wrapped.fastify = wrapped;
  wrapped[kOriginal] = original;
  return wrapped;
}

export class FastifyRouteInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-fastify', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'fastify',
        ['>=4.0.0 <6'],
        (mod: FastifyFactory) => wrapFactory(mod),
        (mod: FastifyFactory) => mod?.[kOriginal] ?? mod,
      ),
    ];
  }
}

export const fastify: InstrumentationEntry = {
  name: 'fastify',
  create: () => [new FastifyRouteInstrumentation()],
};
