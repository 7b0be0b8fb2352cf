import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { internalError } from '../../internal/diag';
import { VERSION } from '../../version';
import type { InstrumentationEntry } from '../types';
import { QueryRecorder, resultOf, type QueryHandle } from './record';

/**
 * mysql2 3.x (callback and promise APIs, pools): the connection's query() and execute(). query()
 * with values interpolates them client-side, so the statement we analyse is the one the server gets
 * (escaped values stay inside their literals); execute() sends real bound parameters. The password in
 * the connection config is never read.
 */
type Fn = (this: MyConn, ...args: unknown[]) => unknown;
interface MyConn {
  config?: { database?: string; host?: string; port?: number };
}
interface MyCommand {
  sql?: unknown;
  onResult?: (err: unknown, rows: unknown, fields?: unknown) => unknown;
  once?: (ev: string, fn: (...a: unknown[]) => void) => unknown;
  on?: (ev: string, fn: (...a: unknown[]) => void) => unknown;
}
type Proto = { query: Fn; execute: Fn };

export class Mysql2Instrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(private readonly recorder: QueryRecorder) {
    super('tripline-instrumentation-mysql2', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    const patch = (exports: unknown): unknown => {
      const cls = exports as { prototype?: Partial<Proto> } | undefined;
      const proto = cls?.prototype;
      if (proto !== undefined && Object.prototype.hasOwnProperty.call(proto, 'query')) {
        this._wrap(proto as Proto, 'query', (original: Fn) => this.patch(original, false));
        if (typeof proto.execute === 'function') this._wrap(proto as Proto, 'execute', (original: Fn) => this.patch(original, true));
      }
      return exports;
    };
    const unpatch = (exports: unknown): void => {
      const proto = (exports as { prototype?: Partial<Proto> } | undefined)?.prototype;
      if (proto !== undefined && Object.prototype.hasOwnProperty.call(proto, 'query')) {
        this._unwrap(proto as Proto, 'query');
        this._unwrap(proto as Proto, 'execute');
      }
    };
    return [
      new InstrumentationNodeModuleDefinition('mysql2', ['>=3.0.0 <4'], undefined, undefined, [
        new InstrumentationNodeModuleFile('mysql2/lib/base/connection.js', ['>=3.0.0 <4'], patch, unpatch),
        new InstrumentationNodeModuleFile('mysql2/lib/connection.js', ['>=3.0.0 <4'], patch, unpatch),
      ]),
    ];
  }

  private patch(original: Fn, prepared: boolean): Fn {
    const recorder = this.recorder;
    return function triplineMysqlQuery(this: MyConn, ...args: unknown[]): unknown {
      let cbIndex = -1;
      for (let i = args.length - 1; i >= 1; i--) {
        if (typeof args[i] === 'function') {
          cbIndex = i;
          break;
        }
      }
      const ret = original.apply(this, args) as MyCommand | undefined;
      try {
        if (ret === undefined || ret === null || typeof ret.sql !== 'string') return ret;
        const first = args[0] as { values?: unknown } | undefined;
        const values = Array.isArray(args[1]) || (typeof args[1] === 'object' && args[1] !== null && typeof args[1] !== 'function') ? args[1] : typeof first === 'object' && first !== null ? first.values : undefined;
        const handle: QueryHandle = recorder.start({
          system: 'mysql',
          dialect: 'mysql',
          sql: ret.sql,
          parameterized: values !== undefined && values !== null && (!Array.isArray(values) || values.length > 0),
          namespace: this.config?.database,
          serverAddress: this.config?.host,
          serverPort: this.config?.port,
        });
        if (typeof ret.onResult === 'function') {
          const orig = ret.onResult;
          ret.onResult = function (this: unknown, err: unknown, rows: unknown, fields?: unknown): unknown {
            handle.finish(resultOf(err, rows));
            return orig.call(this, err, rows, fields);
          };
        } else if (typeof ret.on === 'function' && cbIndex === -1) {
          // event-emitter style without a callback: count rows, never add an 'error' listener
          let rows = 0;
          ret.on('result', () => rows++);
          ret.once?.('end', () => handle.finish({ rows }));
        } else {
          handle.finish({});
        }
      } catch (err) {
        internalError(prepared ? 'mysql2.execute' : 'mysql2.query', err);
      }
      return ret;
    };
  }
}

export const mysql2: InstrumentationEntry = {
  name: 'mysql2',
  create: ({ config }) => [new Mysql2Instrumentation(new QueryRecorder(config))],
};
