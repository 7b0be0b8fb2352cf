import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Socket } from 'node:net';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * Requests node rejects before they become requests (malformed request line, oversized headers): the
 * server emits 'clientError'. Adding a listener would change node's behaviour (it then stops answering
 * 400 itself), so tripline observes the event through Server.prototype.emit instead, keeping its
 * return value, and records security.input_validation_fail.
 */
type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
interface ServerModule {
  Server?: { prototype: { emit: Emit } };
}

function recordClientError(err: unknown, socket: unknown): void {
  guard('http.clientError', () => {
    const code = (err as { code?: unknown } | null)?.code;
    const s = socket as Socket | undefined;
    emit(
      'security.input_validation_fail',
      {
        'security.outcome': 'failure',
        'security.reason': 'malformed_request',
        'error.type': typeof code === 'string' ? code : 'client_error',
        'client.address': s?.remoteAddress?.startsWith('::ffff:') === true ? s.remoteAddress.slice(7) : s?.remoteAddress,
        'server.port': s?.localPort,
      },
      { body: 'malformed HTTP request rejected', state: null },
    );
  });
}

export class HttpClientErrorInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor() {
    super('tripline-instrumentation-http-client-error', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    // Not this._wrap: InstrumentationBase unwraps an already-wrapped method before wrapping, which would
    // remove the upstream http instrumentation's own Server.prototype.emit patch. We patch first (the
    // upstream then wraps us, see the order in index.ts) and restore only what we replaced.
    const def = (name: string): InstrumentationNodeModuleDefinition =>
      new InstrumentationNodeModuleDefinition(
        name,
        ['*'],
        (mod: ServerModule) => {
          const proto = mod.Server?.prototype as PatchableProto | undefined;
          if (proto !== undefined && proto[kPatched] === undefined) {
            const original = proto.emit;
            proto[kPatched] = original;
            proto.emit = patchedEmit(original);
          }
          return mod;
        },
        (mod: ServerModule) => {
          const proto = mod.Server?.prototype as PatchableProto | undefined;
          const original = proto?.[kPatched];
          // Restore only if ours is still the outermost wrapper; otherwise whoever wrapped us restores us.
          if (proto !== undefined && original !== undefined && (proto.emit as Emit & { [kOurs]?: true })[kOurs] === true) {
            proto.emit = original;
            delete proto[kPatched];
          }
        },
      );
    return [def('http'), def('https')];
  }
}

const kPatched = Symbol.for('tripline.http.clientError.original');
type PatchableProto = { emit: Emit; [kPatched]?: Emit };

const kOurs = Symbol.for('tripline.http.clientError.wrapper');

function patchedEmit(original: Emit): Emit {
  const wrapper = function emitWithClientError(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'clientError') recordClientError(args[0], args[1]);
    return original.apply(this, [event, ...args]);
  } as Emit & { [kOurs]?: true };
  wrapper[kOurs] = true;
  return wrapper;
}

export const httpClientError: InstrumentationEntry = {
  name: 'http',
  create: () => [new HttpClientErrorInstrumentation()],
};
