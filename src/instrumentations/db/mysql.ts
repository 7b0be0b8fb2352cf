import { context, type Context } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { internalError } from '../../internal/diag';
import { VERSION } from '../../version';
import type { InstrumentationEntry } from '../types';
import { QueryRecorder, resultOf, type QueryHandle } from './record';

/**
 * The legacy mysql 2.x client (connections and pools; pools end up in Connection.prototype.query too).
 * query() interpolates values client-side with escaping, so the statement analysed is the one the server
 * receives, and values passed separately count as parameterized. The callback is wrapped on the Query the
 * call returns; a query run without a callback (streaming) is finished on its 'end' event, and no 'error'
 * listener is ever added (that would change what an unhandled query error does). The connection's password
 * is never read.
 *
 * Context: the pool hands a query to a connection from a ping's or a released connection's callback, i.e.
 * in the async context of whichever request opened that socket. The pool's query() therefore stamps the
 * caller's context on the Query, the record is made in it, and the app's callback is bound to it (as
 * OpenTelemetry's own mysql instrumentation does), so each record names the request that ran the query.
 */
type Fn = (this: MyConn, ...args: unknown[]) => unknown;
interface MyConn {
  config?: { database?: string; host?: string; port?: number };
}
interface MyQuery {
  sql?: unknown;
  values?: unknown;
  _callback?: (err: unknown, rows: unknown, fields?: unknown) => unknown;
  once?: (ev: string, fn: (...a: unknown[]) => void) => unknown;
  on?: (ev: string, fn: (...a: unknown[]) => void) => unknown;
}
const kSeen = Symbol('tripline.mysql.recorded');
const kContext = Symbol('tripline.mysql.context');
type Stamped = { [kContext]?: Context };

export class MysqlInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(private readonly recorder: QueryRecorder) {
    super('tripline-instrumentation-mysql', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition('mysql', ['>=2.0.0 <3'], undefined, undefined, [
        new InstrumentationNodeModuleFile(
          'mysql/lib/Pool.js',
          ['>=2.0.0 <3'],
          (Pool: { prototype?: { query?: Fn } }) => {
            if (typeof Pool?.prototype?.query === 'function') {
              this._wrap(Pool.prototype as { query: Fn }, 'query', (original: Fn) =>
                function triplineMysqlPoolQuery(this: MyConn, ...args: unknown[]): unknown {
                  const ctx = context.active();
                  const first = args[0] as Stamped | null | undefined;
                  // a Query object passed in: stamp it before the pool queues it
                  if (first !== null && typeof first === 'object' && typeof (first as { sql?: unknown }).sql === 'string') first[kContext] ??= ctx;
                  const ret = original.apply(this, args) as Stamped | undefined;
                  if (ret !== null && typeof ret === 'object') ret[kContext] ??= ctx;
                  return ret;
                },
              );
            }
            return Pool;
          },
          (Pool: { prototype?: { query?: Fn } }) => {
            if (Pool?.prototype !== undefined) this._unwrap(Pool.prototype as { query: Fn }, 'query');
          },
        ),
        new InstrumentationNodeModuleFile(
          'mysql/lib/Connection.js',
          ['>=2.0.0 <3'],
          (Connection: { prototype?: { query?: Fn } }) => {
            if (typeof Connection?.prototype?.query === 'function') this._wrap(Connection.prototype as { query: Fn }, 'query', (original: Fn) => this.patch(original));
            return Connection;
          },
          (Connection: { prototype?: { query?: Fn } }) => {
            if (Connection?.prototype !== undefined) this._unwrap(Connection.prototype as { query: Fn }, 'query');
          },
        ),
      ]),
    ];
  }

  private patch(original: Fn): Fn {
    const recorder = this.recorder;
    return function triplineMysqlLegacyQuery(this: MyConn, ...args: unknown[]): unknown {
      const stamped = (args[0] as Stamped | null | undefined)?.[kContext];
      const ret = original.apply(this, args) as (MyQuery & { [kSeen]?: boolean } & Stamped) | undefined;
      const ctx = stamped ?? ret?.[kContext] ?? context.active();
      try {
        if (ret !== undefined && ret !== null) context.with(ctx, () => record(this, ret));
      } catch (err) {
        internalError('mysql.query', err);
      }
      return ret;
    };

    function record(conn: MyConn, ret: MyQuery & { [kSeen]?: boolean } & Stamped): void {
      if (typeof ret.sql !== 'string' || ret[kSeen] === true) return;
      ret[kSeen] = true;
      const values = ret.values;
      const handle: QueryHandle = recorder.start({
        system: 'mysql',
        dialect: 'mysql',
        sql: ret.sql,
        parameterized: values !== undefined && values !== null && (!Array.isArray(values) || values.length > 0),
        namespace: conn.config?.database,
        serverAddress: conn.config?.host,
        serverPort: conn.config?.port,
      });
      const cb = ret._callback;
      if (typeof cb === 'function') {
        ret._callback = context.bind(context.active(), function (this: unknown, err: unknown, rows: unknown, fields?: unknown): unknown {
          handle.finish(resultOf(err, rows));
          return cb.call(this, err, rows, fields);
        });
      } else if (typeof ret.on === 'function') {
        let rows = 0;
        ret.on('result', () => rows++);
        ret.once?.('end', () => handle.finish({ rows }));
      } else {
        handle.finish({});
      }
    }
  }
}

export const mysql: InstrumentationEntry = {
  name: 'mysql',
  create: ({ config }) => [new MysqlInstrumentation(new QueryRecorder(config))],
};
