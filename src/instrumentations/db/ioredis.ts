import type { AnyValue } from '@opentelemetry/api-logs';
import { context } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { TriplineConfig } from '../../config';
import { currentRequestState, currentRoute } from '../../context/request-state';
import { emit } from '../../events/emitter';
import { guard, internalError } from '../../internal/diag';
import { VERSION } from '../../version';
import type { InstrumentationEntry } from '../types';
import { errorType } from './record';

/**
 * ioredis 4-6: Redis.prototype.sendCommand. Commands are recorded as `NAME key ? ?`: the key is kept,
 * values never, and AUTH/HELLO/MIGRATE/CONFIG arguments not even as keys. FLUSHALL/FLUSHDB are
 * security.sensitive_delete; ACL changes security.privilege_permissions_changed; CONFIG SET, REPLICAOF,
 * MODULE, DEBUG, SHUTDOWN security.authz_admin.
 */
interface RedisCommand {
  name?: string;
  args?: unknown[];
  promise?: Promise<unknown>;
}
interface RedisClient {
  options?: { host?: string; port?: number; db?: number };
}
type SendCommand = (this: RedisClient, command: RedisCommand, ...rest: unknown[]) => unknown;

const READS = new Set(
  'get mget getrange strlen exists type ttl pttl keys scan hget hmget hgetall hkeys hvals hlen hexists hscan lrange llen lindex smembers scard sismember smismember sscan srandmember zrange zrangebyscore zrevrange zrevrangebyscore zscore zcard zcount zrank zrevrank zscan xrange xrevrange xlen xread pfcount bitcount getbit geopos geodist georadius geosearch dbsize info ping echo time select client memory object dump lpos json.get'.split(' '),
);
const NO_KEY = new Set(['auth', 'hello', 'migrate', 'config', 'acl', 'client', 'eval', 'evalsha', 'script', 'function', 'fcall']);
const ADMIN = new Set(['config', 'replicaof', 'slaveof', 'module', 'debug', 'shutdown', 'bgrewriteaof', 'save', 'bgsave', 'failover', 'cluster']);

export class IoredisInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  constructor(private readonly tconfig: TriplineConfig) {
    super('tripline-instrumentation-ioredis', VERSION, {});
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'ioredis',
        ['>=4.0.0 <7'],
        (mod: unknown) => {
          const proto = redisProto(mod);
          if (proto !== undefined) this._wrap(proto, 'sendCommand', (original: SendCommand) => this.patch(original));
          return mod;
        },
        (mod: unknown) => {
          const proto = redisProto(mod);
          if (proto !== undefined) this._unwrap(proto, 'sendCommand');
        },
      ),
    ];
  }

  private patch(original: SendCommand): SendCommand {
    const config = this.tconfig;
    return function triplineRedisSend(this: RedisClient, command: RedisCommand, ...rest: unknown[]): unknown {
      let done: ((err: unknown, reply: unknown) => void) | undefined;
      try {
        done = begin(config, this, command);
      } catch (err) {
        internalError('ioredis.sendCommand', err);
      }
      const ret = original.call(this, command, ...rest);
      const p = command?.promise;
      if (done !== undefined && p !== undefined && typeof p.then === 'function') {
        const d = done;
        p.then(
          (reply) => d(undefined, reply),
          (err: unknown) => d(err, undefined),
        );
      }
      return ret;
    };
  }
}

function redisProto(mod: unknown): { sendCommand: SendCommand } | undefined {
  const m = mod as { default?: { prototype?: unknown }; prototype?: unknown; Redis?: { prototype?: unknown } };
  const proto = (m.prototype ?? m.default?.prototype ?? m.Redis?.prototype) as { sendCommand?: SendCommand } | undefined;
  return proto !== undefined && typeof proto.sendCommand === 'function' ? (proto as { sendCommand: SendCommand }) : undefined;
}

function begin(config: TriplineConfig, client: RedisClient, command: RedisCommand): ((err: unknown, reply: unknown) => void) | undefined {
  const name = typeof command?.name === 'string' ? command.name.toLowerCase() : undefined;
  if (name === undefined) return undefined;
  const args = Array.isArray(command.args) ? command.args : [];
  const state = currentRequestState();
  const route = state !== undefined ? currentRoute(state) : undefined;
  const ctx = context.active();
  const t0 = performance.now();
  const startedAt = Date.now();
  const isRead = READS.has(name);
  const key = !NO_KEY.has(name) && args.length > 0 && (typeof args[0] === 'string' || Buffer.isBuffer(args[0])) ? String(args[0]).slice(0, 128) : undefined;
  const sub = (name === 'config' || name === 'acl' || name === 'client' || name === 'script' || name === 'function') && typeof args[0] === 'string' ? ` ${args[0].toUpperCase()}` : '';
  const shown = `${name.toUpperCase()}${sub}${key !== undefined ? ` ${key}` : ''}${' ?'.repeat(Math.max(0, args.length - (key !== undefined || sub !== '' ? 1 : 0)))}`;
  return (err: unknown, reply: unknown) => {
    guard('ioredis.finish', () => {
      const failed = err !== undefined && err !== null;
      const attrs: Record<string, AnyValue | undefined> = {
        'db.system.name': 'redis',
        'db.namespace': String(client.options?.db ?? 0),
        'db.operation.name': `${name.toUpperCase()}${sub}`,
        'db.query.text': shown,
        'db.query.summary': `${name.toUpperCase()}${sub}`,
        'server.address': client.options?.host,
        'server.port': client.options?.port,
        'db.client.operation.duration_ms': Math.round((performance.now() - t0) * 1000) / 1000,
        'db.response.returned_rows': Array.isArray(reply) ? reply.length : undefined,
        'http.route': route,
      };
      if (failed) attrs['error.type'] = errorType(err);
      const opts = { state: state ?? null, context: ctx, timestamp: startedAt };
      if (!failed) {
        if (name === 'flushall' || name === 'flushdb') emit('security.sensitive_delete', { ...attrs }, { ...opts, body: `${name.toUpperCase()} emptied the Redis database` });
        else if (name === 'acl' && /^(setuser|deluser)$/i.test(String(args[0]))) emit('security.privilege_permissions_changed', { ...attrs }, { ...opts, body: `Redis ACL ${String(args[0]).toUpperCase()}` });
        else if (ADMIN.has(name) && !(name === 'config' && /^get$/i.test(String(args[0])))) emit('security.authz_admin', { ...attrs }, { ...opts, body: `Redis admin command ${name.toUpperCase()}${sub}` });
      }
      const mode = config.dbQueryLog;
      if (mode === 'none' || (mode === 'errors' && !failed) || (mode === 'writes' && !failed && isRead)) return;
      emit('db.client.query', attrs, { ...opts, body: `${name.toUpperCase()}${sub}`, severity: failed ? 13 : undefined });
    });
  };
}

export const ioredis: InstrumentationEntry = {
  name: 'ioredis',
  create: ({ config }) => [new IoredisInstrumentation(config)],
};
