import type { AnyValue } from '@opentelemetry/api-logs';
import { join } from 'node:path';
import { InstrumentationBase, type InstrumentationConfig, type InstrumentationModuleDefinition } from '@opentelemetry/instrumentation';
import { Hook as RequireHook } from 'require-in-the-middle';
import { Hook as ImportHook } from 'import-in-the-middle';
import type { TriplineConfig } from '../config';
import { emit } from '../events/emitter';
import { guard } from '../internal/diag';
import { keyedHash } from '../internal/hash';
import { analyzeSql } from '../sql/analyze';
import { VERSION } from '../version';
import type { InstrumentationEntry } from './types';

/**
 * MCP servers built with @modelcontextprotocol/sdk 1.x (Server and McpServer, any transport). The
 * SDK's Protocol class keeps one handler per JSON-RPC method; every handler it registers is wrapped,
 * so each tools/call, resources/read, prompts/get and initialize is recorded with its outcome, and
 * arguments are checked for traversal, injection and (for command tools) shell metacharacters. Tool
 * arguments are shipped as a map: the redaction processor scrubs them by key and by value pattern.
 */
type Handler = (request: McpRequest, extra: McpExtra | undefined) => unknown;
interface McpRequest {
  method?: string;
  params?: Record<string, unknown> & { name?: unknown; arguments?: unknown; uri?: unknown };
}
interface McpExtra {
  sessionId?: string;
  authInfo?: { clientId?: string; extra?: Record<string, unknown> };
}
interface ProtocolLike {
  _requestHandlers?: Map<string, Handler>;
  setRequestHandler: (schema: unknown, handler: Handler) => unknown;
  notification: (n: { method?: string }, ...rest: unknown[]) => unknown;
  [kListed]?: Set<string>;
}
const kListed = Symbol.for('tripline.mcp.listedTools');
/** Tools offered per MCP session (stateless servers, one server per request: per process). */
const listedBySession = new Map<string, Set<string>>();
const sessionKey = (extra: McpExtra | undefined): string => extra?.sessionId ?? '*';
const kWrappedHandler = Symbol.for('tripline.mcp.handler');

const SHELL_META = /[;&|`$<>\n]|\$\(/;
const TRAVERSAL = /(?:^|[\\/])\.\.(?:[\\/]|$)|%2e%2e(?:%2f|%5c|\/|\\)|\.\.%2f|\.\.%5c/i;

function* strings(v: unknown, path: string, depth = 0): Generator<[string, string]> {
  if (depth > 6) return;
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length && i < 100; i++) yield* strings(v[i], `${path}[${i}]`, depth + 1);
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v).slice(0, 100)) yield* strings((v as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, depth + 1);
}

function resultSize(r: unknown): number | undefined {
  try {
    return JSON.stringify(r)?.length;
  } catch {
    return undefined;
  }
}

function protocolError(text: string): boolean {
  return /^MCP error -326(?:01|02)\b|Tool [^ ]+ not found|Input validation error|Invalid arguments for tool/.test(text);
}

export class McpInstrumentation extends InstrumentationBase<InstrumentationConfig> {
  private readonly commandTools: Set<string>;
  private readonly roots: readonly string[];

  constructor(config: TriplineConfig) {
    super('tripline-instrumentation-mcp', VERSION, {});
    this.commandTools = new Set(config.mcpCommandTools);
    this.roots = config.mcpAllowedRoots;
  }

  // Not initialized as fields: InstrumentationBase's constructor already calls enable().
  private hooks: Array<{ unhook(): void }> | undefined;
  private patched: ProtocolLike[] | undefined;

  /**
   * The SDK's package has no main entry, only sub-path exports, so the usual module definition never
   * fires (require-in-the-middle skips files of packages it cannot resolve by name). We hook the
   * exported sub-paths by their exact ids instead (CommonJS), and the ESM build through
   * import-in-the-middle, and patch the Protocol class they share.
   */
  protected init(): InstrumentationModuleDefinition[] {
    return [];
  }

  override enable(): void {
    super.enable();
    this.patched ??= [];
    if (this.hooks !== undefined) return;
    this.hooks = [];
    const ids = ['server/index.js', 'server/mcp.js', 'server/streamableHttp.js', 'server/stdio.js', 'shared/protocol.js'].map((p) => `@modelcontextprotocol/sdk/${p}`);
    try {
      this.hooks.push(
        new RequireHook(ids, ((exports: unknown, _name: string, basedir?: string) => {
          guard('mcp.require', () => {
            if (basedir === undefined) return;
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const proto = (require(join(basedir, 'dist', 'cjs', 'shared', 'protocol.js')) as { Protocol?: { prototype: ProtocolLike } }).Protocol?.prototype;
            if (proto !== undefined) this.patchProtocol(proto);
          });
          return exports;
        }) as never),
      );
    } catch (err) {
      guard('mcp.hook', () => {
        throw err;
      });
    }
    try {
      this.hooks.push(
        new ImportHook(['@modelcontextprotocol/sdk'], { internals: true }, (exports: unknown, name: string) => {
          guard('mcp.import', () => {
            if (!/shared[\\/]protocol\.js$/.test(name)) return;
            const proto = (exports as { Protocol?: { prototype: ProtocolLike } }).Protocol?.prototype;
            if (proto !== undefined) this.patchProtocol(proto);
          });
          return exports;
        }) as unknown as { unhook(): void },
      );
    } catch {
      // ESM hooks unavailable (no --import): CommonJS apps are still covered
    }
  }

  override disable(): void {
    super.disable();
    for (const proto of this.patched ?? []) {
      this._unwrap(proto, 'setRequestHandler');
      this._unwrap(proto, 'notification');
    }
    this.patched = [];
  }

  private patchProtocol(proto: ProtocolLike): void {
    this.patched ??= [];
    if (this.patched.includes(proto) || (proto.setRequestHandler as { __wrapped?: boolean }).__wrapped === true) return;
    this._wrap(proto, 'setRequestHandler', (orig: ProtocolLike['setRequestHandler']) => this.patchSetHandler(orig));
    this._wrap(proto, 'notification', (orig: ProtocolLike['notification']) => patchNotification(orig));
    this.patched.push(proto);
  }

  private patchSetHandler(orig: ProtocolLike['setRequestHandler']): ProtocolLike['setRequestHandler'] {
    const instr = this;
    return function (this: ProtocolLike, schema: unknown, handler: Handler): unknown {
      const before = new Set(this._requestHandlers?.keys() ?? []);
      const ret = orig.call(this, schema, handler);
      guard('mcp.setRequestHandler', () => {
        const map = this._requestHandlers;
        if (map === undefined) return;
        for (const [method, h] of map) {
          if (before.has(method) && (h as Handler & { [kWrappedHandler]?: true })[kWrappedHandler] === true) continue;
          if (!['tools/call', 'tools/list', 'resources/read', 'prompts/get', 'initialize'].includes(method)) continue;
          if ((h as Handler & { [kWrappedHandler]?: true })[kWrappedHandler] === true) continue;
          const wrapped = instr.wrapHandler(this, method, h) as Handler & { [kWrappedHandler]?: true };
          wrapped[kWrappedHandler] = true;
          map.set(method, wrapped);
        }
      });
      return ret;
    };
  }

  private wrapHandler(server: ProtocolLike, method: string, h: Handler): Handler {
    const instr = this;
    return function (this: unknown, request: McpRequest, extra: McpExtra | undefined): unknown {
      const t0 = performance.now();
      const begin = guard('mcp.begin', () => instr.begin(server, method, request, extra));
      let out: unknown;
      try {
        out = h.call(this, request, extra);
      } catch (err) {
        guard('mcp.end', () => instr.end(server, method, request, extra, begin, t0, undefined, err));
        throw err;
      }
      if (out !== null && typeof out === 'object' && typeof (out as Promise<unknown>).then === 'function') {
        return (out as Promise<unknown>).then(
          (res) => {
            guard('mcp.end', () => instr.end(server, method, request, extra, begin, t0, res, undefined));
            return res;
          },
          (err: unknown) => {
            guard('mcp.end', () => instr.end(server, method, request, extra, begin, t0, undefined, err));
            throw err;
          },
        );
      }
      guard('mcp.end', () => instr.end(server, method, request, extra, begin, t0, out, undefined));
      return out;
    };
  }

  private base(extra: McpExtra | undefined): Record<string, AnyValue | undefined> {
    const attrs: Record<string, AnyValue | undefined> = { 'rpc.system': 'jsonrpc', 'mcp.transport.session': extra?.sessionId !== undefined ? keyedHash(extra.sessionId) : undefined };
    if (extra?.authInfo?.clientId !== undefined) attrs['mcp.client.id'] = extra.authInfo.clientId;
    return attrs;
  }

  /** Checks on the way in: unknown tool, traversal, injection, shell metacharacters. */
  private begin(server: ProtocolLike, method: string, request: McpRequest, extra: McpExtra | undefined): void {
    if (method !== 'tools/call' && method !== 'resources/read' && method !== 'prompts/get') return;
    const name = typeof request.params?.name === 'string' ? request.params.name : undefined;
    const args = method === 'resources/read' ? { uri: request.params?.uri } : request.params?.arguments;
    const ctx = { ...this.base(extra), 'mcp.method.name': method, 'mcp.tool.name': method === 'tools/call' ? name : undefined };
    if (method === 'tools/call' && name !== undefined) {
      const listed = listedBySession.get(sessionKey(extra)) ?? server[kListed];
      if (listed === undefined || !listed.has(name)) {
        emit('security.mcp_unknown_tool', { ...ctx, 'security.reason': listed === undefined ? 'called_before_listing' : 'not_in_tool_list' }, { body: `call to a tool the client was never offered: ${name}` });
      }
    }
    const found = new Map<string, string[]>();
    const add = (event: string, where: string): void => {
      const list = found.get(event) ?? [];
      if (list.length < 10) list.push(where);
      found.set(event, list);
    };
    for (const [path, value] of strings(args, '')) {
      if (value.length > 65536) continue;
      if (TRAVERSAL.test(value)) add('security.malicious_path_traversal', path);
      else if (this.roots.length > 0 && (value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value)) && !this.roots.some((r) => value === r || value.startsWith(r.endsWith('/') ? r : `${r}/`))) add('security.malicious_path_traversal', path);
      if (name !== undefined && this.commandTools.has(name) && SHELL_META.test(value)) add('security.malicious_cmdi', path);
      if (/['";]|--|\b(?:or|union|select)\b/i.test(value) && analyzeSql(`SELECT * FROM t WHERE c = '${value}'`, 'postgresql').signatures.length > 0) add('security.malicious_sqli', path);
    }
    for (const [event, where] of found) {
      emit(event, { ...ctx, 'security.signature': `mcp_argument:${where.join(',')}`, 'mcp.tool.argument_keys': where }, { body: `suspicious ${method} arguments (${where.join(', ')})` });
    }
  }

  private end(server: ProtocolLike, method: string, request: McpRequest, extra: McpExtra | undefined, _begin: unknown, t0: number, res: unknown, err: unknown): void {
    const durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    const attrs = { ...this.base(extra), 'mcp.method.name': method, 'mcp.duration_ms': durationMs };
    const failed = err !== undefined;
    const errType = failed ? ((err as { code?: unknown })?.code !== undefined ? `mcp_${String((err as { code?: unknown }).code)}` : err instanceof Error ? err.name : 'error') : undefined;
    const errMsg = failed ? (err instanceof Error ? err.message : String(err)) : undefined;
    switch (method) {
      case 'initialize': {
        const p = request.params ?? {};
        const ci = (p.clientInfo ?? {}) as { name?: unknown; version?: unknown };
        emit('mcp.session.start', { ...attrs, 'mcp.client.name': typeof ci.name === 'string' ? ci.name : undefined, 'mcp.client.version': typeof ci.version === 'string' ? ci.version : undefined, 'mcp.protocol.version': typeof p.protocolVersion === 'string' ? p.protocolVersion : undefined }, { body: 'MCP session initialized' });
        return;
      }
      case 'tools/list': {
        const tools = (res as { tools?: Array<{ name?: unknown }> } | undefined)?.tools;
        if (!Array.isArray(tools)) return;
        const names = new Set(tools.map((t) => String(t.name)));
        const key = sessionKey(extra);
        const prev = listedBySession.get(key);
        server[kListed] = names;
        if (listedBySession.size > 10_000 && !listedBySession.has(key)) listedBySession.clear();
        listedBySession.set(key, names);
        if (prev !== undefined) {
          const added = [...names].filter((n) => !prev.has(n));
          const removed = [...prev].filter((n) => !names.has(n));
          if (added.length > 0 || removed.length > 0) emit('security.mcp_tools_changed', { ...attrs, 'mcp.tools.added': added, 'mcp.tools.removed': removed }, { body: `tool list changed at run time (+${added.join(',')} -${removed.join(',')})` });
        }
        return;
      }
      default:
        break;
    }
    const name = typeof request.params?.name === 'string' ? request.params.name : undefined;
    const args = request.params?.arguments;
    const r = res as { isError?: unknown; content?: Array<{ text?: unknown }> } | undefined;
    const isError = r?.isError === true;
    const errorText = isError && Array.isArray(r?.content) ? String(r?.content[0]?.text ?? '') : undefined;
    const rec: Record<string, AnyValue | undefined> = {
      ...attrs,
      'security.outcome': failed || isError ? 'failure' : 'success',
      'error.type': errType ?? (isError ? (errorText !== undefined && protocolError(errorText) ? 'mcp_invalid_params' : 'tool_error') : undefined),
      'error.message': errMsg ?? errorText,
      'mcp.result.size': res !== undefined ? resultSize(res) : undefined,
    };
    let event = 'mcp.tool.call';
    if (method === 'tools/call') {
      rec['mcp.tool.name'] = name;
      rec['mcp.tool.is_error'] = isError;
      if (args !== null && typeof args === 'object') {
        rec['mcp.tool.argument_keys'] = Object.keys(args).slice(0, 64);
        rec['mcp.tool.arguments'] = args as AnyValue;
      }
    } else if (method === 'resources/read') {
      event = 'mcp.resource.read';
      rec['mcp.resource.uri'] = typeof request.params?.uri === 'string' ? request.params.uri : undefined;
    } else if (method === 'prompts/get') {
      event = 'mcp.prompt.get';
      rec['mcp.prompt.name'] = name;
      if (args !== null && typeof args === 'object') rec['mcp.prompt.argument_keys'] = Object.keys(args).slice(0, 64);
    }
    emit(event, rec, { body: `${method} ${name ?? String(rec['mcp.resource.uri'] ?? '')} ${rec['security.outcome']}`, severity: failed || isError ? 13 : undefined });
    const invalid = (failed && /^mcp_-326(01|02)$/.test(String(errType))) || (errorText !== undefined && protocolError(errorText));
    if (invalid) {
      emit('security.input_validation_fail', { ...attrs, 'mcp.tool.name': name, 'security.reason': 'mcp_invalid_request', 'error.message': errMsg ?? errorText }, { body: `MCP ${method} rejected: ${errMsg ?? errorText ?? ''}` });
    }
  }
}

function patchNotification(orig: ProtocolLike['notification']): ProtocolLike['notification'] {
  return function (this: ProtocolLike, n: { method?: string }, ...rest: unknown[]): unknown {
    guard('mcp.notification', () => {
      if (n?.method === 'notifications/tools/list_changed') emit('security.mcp_tools_changed', { 'mcp.method.name': n.method }, { body: 'the server announced a tool list change' });
    });
    return orig.call(this, n, ...rest);
  };
}

export const mcp: InstrumentationEntry = {
  name: 'mcp',
  create: ({ config }) => [new McpInstrumentation(config)],
};
