import type { AnyValue } from '@opentelemetry/api-logs';
import { context, type Context } from '@opentelemetry/api';
import type { TriplineConfig } from '../../config';
import { currentRequestState, currentRoute, type RequestState } from '../../context/request-state';
import { emit } from '../../events/emitter';
import { guard } from '../../internal/diag';
import { analyzeSql, inputBreakout, type SqlAnalysis } from '../../sql/analyze';
import type { Dialect } from '../../sql/tokenizer';

/** What a client instrumentation knows about one query when it starts. */
export interface QueryStart {
  system: 'postgresql' | 'mysql' | 'mariadb';
  dialect: Dialect;
  sql: string;
  /** Values were sent separately from the statement (bound parameters). */
  parameterized: boolean;
  namespace?: string | undefined;
  serverAddress?: string | undefined;
  serverPort?: number | undefined;
}

export interface QueryEnd {
  rows?: number | undefined;
  affected?: number | undefined;
  error?: unknown;
}

/** A query in flight: created synchronously in the caller's context so it knows the request. */
export interface QueryHandle {
  finish(end: QueryEnd): void;
}

const cache = new Map<string, SqlAnalysis>();
const CACHE_MAX = 512;

function analysis(sql: string, dialect: Dialect): SqlAnalysis {
  const key = dialect === 'mysql' ? `m${sql}` : `p${sql}`;
  let a = cache.get(key);
  if (a === undefined) {
    a = analyzeSql(sql, dialect);
    if (sql.length <= 4096) {
      if (cache.size >= CACHE_MAX) {
        const first = cache.keys().next();
        if (first.done !== true) cache.delete(first.value);
      }
      cache.set(key, a);
    }
  }
  return a;
}

const kInputs = 'sqlInputs';

/** String values of the current request (query string, route params, parsed body), cached per request. */
function requestInputs(state: RequestState): string[] {
  const slots = (state.slots ??= {});
  const cached = slots[kInputs] as string[] | undefined;
  if (cached !== undefined) return cached;
  const out: string[] = [];
  const addAll = (v: unknown, depth: number): void => {
    if (out.length >= 64 || depth > 3) return;
    if (typeof v === 'string') {
      if (v.length >= 2) out.push(v);
    } else if (Array.isArray(v)) for (const x of v) addAll(x, depth + 1);
    else if (v !== null && typeof v === 'object') for (const k in v as Record<string, unknown>) addAll((v as Record<string, unknown>)[k], depth + 1);
  };
  const url = state.req.url ?? '';
  const q = url.indexOf('?');
  if (q !== -1) {
    try {
      for (const [, v] of new URLSearchParams(url.slice(q + 1))) addAll(v, 0);
    } catch {
      // malformed query strings carry nothing we can compare
    }
    // raw, undecoded too: apps sometimes concatenate the raw value
    for (const part of url.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq !== -1) addAll(part.slice(eq + 1), 0);
    }
  }
  const r = state.req as { body?: unknown; params?: unknown };
  addAll(r.params, 0);
  addAll(r.body, 0);
  slots[kInputs] = out;
  return out;
}

export class QueryRecorder {
  private readonly sensitive: Set<string>;
  private readonly roleColumns: Set<string>;

  constructor(private readonly config: TriplineConfig) {
    this.sensitive = new Set(config.sensitiveTables.map((t) => t.toLowerCase()));
    this.roleColumns = new Set(config.roleColumns.map((c) => c.toLowerCase()));
  }

  /** Call synchronously where the app issued the query. Never throws. */
  start(q: QueryStart): QueryHandle {
    const state = currentRequestState();
    const route = state !== undefined ? currentRoute(state) : undefined;
    // the caller's context: completion callbacks of pooled connections may run in another's
    const ctx = context.active();
    const t0 = performance.now();
    const startedAt = Date.now();
    return {
      finish: (end: QueryEnd) => {
        guard('db.finish', () => this.record(q, end, state, route, ctx, performance.now() - t0, startedAt));
      },
    };
  }

  private record(q: QueryStart, end: QueryEnd, state: RequestState | undefined, route: string | undefined, ctx: Context, durationMs: number, startedAt: number): void {
    const a = analysis(q.sql, q.dialect);
    const attrs: Record<string, AnyValue | undefined> = {
      'db.system.name': q.system,
      'db.namespace': q.namespace,
      'db.operation.name': a.operation,
      'db.collection.name': a.collection,
      'db.query.summary': a.summary,
      'db.query.text': a.text,
      'server.address': q.serverAddress,
      'server.port': q.serverPort,
      'db.response.returned_rows': end.rows,
      'db.response.affected_rows': end.affected,
      'db.client.operation.duration_ms': Math.round(durationMs * 1000) / 1000,
      'db.query.parameterized': q.parameterized,
      'http.route': route,
    };
    const failed = end.error !== undefined && end.error !== null;
    if (failed) attrs['error.type'] = errorType(end.error);
    const opts = { state: state ?? null, context: ctx };

    // Injection: static signatures on the raw statement, and request input that broke out of a literal.
    const sigs = [...a.signatures];
    if (state !== undefined && inputBreakout(q.sql, a.tokens, requestInputs(state))) sigs.push('input_breakout');
    if (sigs.length > 0) {
      emit('security.malicious_sqli', { ...attrs, 'security.signature': sigs.join(','), 'security.outcome': failed ? 'failure' : 'success' }, { ...opts, body: `SQL injection signature (${sigs.join(', ')}) in ${a.summary ?? 'a query'}`, timestamp: startedAt });
    }

    const table = a.table;
    const sensitive = table !== undefined && this.sensitive.has(table);
    if (!failed && (a.operation === 'UPDATE' || a.operation === 'INSERT') && a.setColumns.length > 0) {
      const roleCols = a.setColumns.filter((c) => this.roleColumns.has(c));
      if (roleCols.length > 0 && (end.affected === undefined || end.affected > 0)) {
        emit('security.authz_change', { ...attrs, 'security.privilege.columns': roleCols }, { ...opts, body: `${roleCols.join(', ')} changed in ${a.collection ?? 'a table'}` });
      }
    }
    if (sensitive && !failed) {
      const op = a.operation;
      const name = op === 'INSERT' || op === 'REPLACE' ? 'security.sensitive_create' : op === 'UPDATE' || op === 'MERGE' ? 'security.sensitive_update' : op === 'DELETE' || op === 'TRUNCATE' || op === 'DROP' ? 'security.sensitive_delete' : undefined;
      if (name !== undefined) emit(name, { ...attrs }, { ...opts, body: `${op} on sensitive table ${a.collection ?? ''}` });
      else if (op === 'SELECT' && end.rows !== undefined && end.rows > this.config.bulkReadRows) {
        emit('security.sensitive_read', { ...attrs, 'tripline.bulk_read_threshold': this.config.bulkReadRows }, { ...opts, body: `${end.rows} rows read from sensitive table ${a.collection ?? ''}` });
      }
    }

    const mode = this.config.dbQueryLog;
    if (mode === 'none') return;
    if (mode === 'errors' && !failed) return;
    if (mode === 'writes' && !failed && !a.isWrite) return;
    emit('db.client.query', attrs, { ...opts, body: a.summary ?? 'query', severity: failed ? 13 : undefined, timestamp: startedAt });
  }
}

export function errorType(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; name?: unknown };
    if (typeof e.code === 'string' && e.code.length > 0) return e.code;
    if (typeof e.name === 'string' && e.name.length > 0) return e.name;
  }
  return 'error';
}

/** What a mysql-protocol client's callback says of a finished query: rows read, rows changed, or the error. */
export function resultOf(err: unknown, rows: unknown): { rows?: number; affected?: number; error?: unknown } {
  if (err !== undefined && err !== null) return { error: err };
  if (Array.isArray(rows)) return { rows: rows.length };
  const header = rows as { affectedRows?: unknown } | undefined;
  if (header !== undefined && header !== null && typeof header.affectedRows === 'number') return { affected: header.affectedRows };
  return {};
}
