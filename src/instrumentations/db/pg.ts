import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { internalError } from '../../internal/diag';
import { VERSION } from '../../version';
import type { InstrumentationEntry } from '../types';
import { QueryRecorder, type QueryHandle } from './record';

/**
 * node-postgres (pg 8): Client.prototype.query, which Pool.query also goes through. The statement is
 * seen as the app wrote it, before the server sees it, and values passed separately are never read.
 * The connection string and password are never looked at.
 */
type QueryFn = (this: PgClient, ...args: unknown[]) => unknown;
interface PgClient {
  database?: string;
  host?: string;
  port?: number;
  connectionParameters?: { database?: string; host?: string; port?: number };
}
interface PgModule {
  Client?: { prototype: { query: QueryFn } };
}
interface PgResult {
  rowCount?: number | null;
  rows?: unknown[];
  command?: string;
}

export class PgInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(private readonly recorder: QueryRecorder) {
    super('tripline-instrumentation-pg', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'pg',
        ['>=8.0.0 <9'],
        (mod: PgModule) => {
          const proto = mod.Client?.prototype;
          if (proto !== undefined) this._wrap(proto, 'query', (original: QueryFn) => this.patchQuery(original));
          return mod;
        },
        (mod: PgModule) => {
          const proto = mod.Client?.prototype;
          if (proto !== undefined) this._unwrap(proto, 'query');
        },
      ),
    ];
  }

  private patchQuery(original: QueryFn): QueryFn {
    const recorder = this.recorder;
    return function triplinePgQuery(this: PgClient, ...args: unknown[]): unknown {
      let handle: QueryHandle | undefined;
      try {
        const first = args[0] as { text?: unknown; values?: unknown; submit?: unknown } | string | undefined;
        const text = typeof first === 'string' ? first : typeof first?.text === 'string' ? first.text : undefined;
        if (text !== undefined) {
          const values = Array.isArray(args[1]) ? args[1] : typeof first === 'object' && first !== null ? first.values : undefined;
          const cp = this.connectionParameters;
          handle = recorder.start({
            system: 'postgresql',
            dialect: 'postgresql',
            sql: text,
            parameterized: Array.isArray(values) && values.length > 0,
            namespace: cp?.database ?? this.database,
            serverAddress: cp?.host ?? this.host,
            serverPort: cp?.port ?? this.port,
          });
          const last = args[args.length - 1];
          if (typeof last === 'function') {
            const cb = last as (err: unknown, res: unknown) => unknown;
            const h = handle;
            args[args.length - 1] = function (this: unknown, err: unknown, res: unknown): unknown {
              h.finish(resultOf(err, res));
              return cb.call(this, err, res);
            };
            handle = undefined;
          }
        }
      } catch (err) {
        internalError('pg.query', err);
      }
      const ret = original.apply(this, args);
      if (handle !== undefined) {
        const h = handle;
        if (ret !== null && typeof ret === 'object' && typeof (ret as Promise<unknown>).then === 'function') {
          (ret as Promise<unknown>).then(
            (res) => h.finish(resultOf(undefined, res)),
            (err: unknown) => h.finish(resultOf(err, undefined)),
          );
        } else {
          // submittables (cursors, streams): the statement is recorded without a result
          h.finish({});
        }
      }
      return ret;
    };
  }
}

function resultOf(err: unknown, res: unknown): { rows?: number; affected?: number; error?: unknown } {
  if (err !== undefined && err !== null) return { error: err };
  const r = (Array.isArray(res) ? res[res.length - 1] : res) as PgResult | undefined;
  if (r === undefined || r === null) return {};
  const count = typeof r.rowCount === 'number' ? r.rowCount : undefined;
  if (r.command === 'SELECT' || r.command === undefined) return { rows: Array.isArray(r.rows) ? r.rows.length : count };
  return { affected: count, rows: Array.isArray(r.rows) && r.rows.length > 0 ? r.rows.length : undefined };
}

export const pg: InstrumentationEntry = {
  name: 'pg',
  create: ({ config }) => [new PgInstrumentation(new QueryRecorder(config))],
};
