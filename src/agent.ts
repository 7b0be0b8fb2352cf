import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import { context, diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, type LogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AlwaysOnSampler, BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ConfigError, loadConfig, type TriplineConfig } from './config';
import { setUserMode } from './context/user';
import { emit, setLogger } from './events/emitter';
import { createDelivery, createExporter } from './export/pipeline';
import { startHeartbeat } from './export/heartbeat';
import { startAgentMetrics, type AgentMetrics } from './export/metrics';
import type { DeliveryProcessor } from './export/delivery';
import { selectInstrumentations } from './instrumentations';
import { internalError, stats, totalDropped } from './internal/diag';
import { setHashKey } from './internal/hash';
import { ClientAddressResolver } from './net/client-address';
import { RedactionProcessor } from './redaction/processor';
import { IntegrityProcessor, integrityKey } from './integrity/chain';
import { VERSION } from './version';

export interface StartOptions {
  /** Environment to read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Install SIGTERM/SIGINT/beforeExit handlers that flush before exit (default true). */
  handleSignals?: boolean;
}

export interface Agent {
  readonly config: TriplineConfig;
  readonly serviceInstanceId: string;
  readonly loggerProvider: LoggerProvider;
  readonly delivery: DeliveryProcessor;
  forceFlush(): Promise<void>;
  shutdown(reason?: string): Promise<void>;
}

/**
 * Diagnostics go to stderr at every level: stdout can be a protocol channel (an MCP server over stdio),
 * and OTel's console logger writes info and debug to stdout.
 */
const write = (level: string) => (msg: string, ...args: unknown[]): void => {
  process.stderr.write(`tripline ${level}: ${format(msg, ...args)}\n`);
};
const STDERR_LOGGER: DiagLogger = { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('verbose') };

let current: Agent | undefined;
let shuttingDown: Promise<void> | undefined;
const GLOBAL_KEY = Symbol.for('tripline.agent');

/** The running agent, if any. */
export function getAgent(): Agent | undefined {
  return current;
}

function appServiceName(): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { name?: unknown };
    return typeof pkg.name === 'string' && pkg.name.length > 0 ? pkg.name : undefined;
  } catch {
    return undefined;
  }
}

function diagLevel(env: NodeJS.ProcessEnv): DiagLogLevel {
  switch ((env.OTEL_LOG_LEVEL ?? '').toLowerCase()) {
    case 'none':
      return DiagLogLevel.NONE;
    case 'error':
      return DiagLogLevel.ERROR;
    case 'info':
      return DiagLogLevel.INFO;
    case 'debug':
      return DiagLogLevel.DEBUG;
    case 'verbose':
    case 'all':
      return DiagLogLevel.VERBOSE;
    default:
      return DiagLogLevel.WARN;
  }
}

/**
 * Start the agent: validate configuration, build the log pipeline (redaction first, then delivery),
 * patch the instrumented libraries. Synchronous so that a preload patches before the app loads them.
 * Calling it twice returns the running agent.
 */
export function start(opts: StartOptions = {}): Agent | undefined {
  const g = globalThis as { [GLOBAL_KEY]?: Agent };
  if (current !== undefined) return current;
  if (g[GLOBAL_KEY] !== undefined) return g[GLOBAL_KEY];
  const env = opts.env ?? process.env;

  const { config, problems } = loadConfig(env);
  for (const line of problems) process.stderr.write(`${line}\n`);
  if (problems.length > 0 && config.strict) throw new ConfigError(problems);
  if (config.disabled) return undefined;

  diag.setLogger(STDERR_LOGGER, { logLevel: diagLevel(env), suppressOverrideMessage: true });
  setUserMode(config.userMode);
  setHashKey(config.hashKey);

  const serviceInstanceId = randomUUID();
  const base = resourceFromAttributes({
    'service.name': config.serviceName ?? appServiceName() ?? 'unknown_service:node',
    'service.instance.id': serviceInstanceId,
    'host.name': hostname(),
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.language': 'nodejs',
    'telemetry.distro.name': 'tripline',
    'telemetry.distro.version': VERSION,
  });
  // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME win over what we derived.
  const resource = base.merge(detectResources({ detectors: [envDetector] }));

  const serviceName = String(resource.attributes['service.name'] ?? 'unknown_service');
  const exporter = createExporter(config, env);
  const delivery = createDelivery(config, serviceName, exporter, (down, reason) => {
    emit(down ? 'security.sys_monitor_disabled' : 'security.sys_monitor_enabled', { 'tripline.export.reason': reason, 'tripline.spool.records': delivery.spool.totalRecords }, {
      body: down ? 'tripline cannot reach the collector: records are spooled to disk' : 'tripline reaches the collector again: replaying the spool',
      state: null,
    });
  }, env);
  let integrity: IntegrityProcessor | undefined;
  try {
    const key = integrityKey(config);
    if (key !== undefined) integrity = new IntegrityProcessor(key, config.signingKeyFile);
    else process.stderr.write('tripline: TRIPLINE_INTEGRITY_KEY is not set: records are not tamper-evident (see README, "Delivery and integrity").\n');
  } catch (err) {
    process.stderr.write(`tripline: integrity disabled: ${err instanceof Error ? err.message : String(err)}\n`);
    if (config.strict) throw new ConfigError([`tripline: integrity key or signing key unusable: ${err instanceof Error ? err.message : String(err)}`]);
  }
  // Order matters: redaction first (nothing unredacted goes further), the chain over the final record, then delivery.
  const processors: LogRecordProcessor[] = integrity !== undefined ? [new RedactionProcessor(config), integrity, delivery] : [new RedactionProcessor(config), delivery];
  const loggerProvider = new LoggerProvider({ resource, processors });
  const logger = loggerProvider.getLogger('tripline', VERSION);

  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const resolver = new ClientAddressResolver(config.trustedProxies);
  const deps = { config, resolver, hooks: { start: [], end: [] } };
  const entries = selectInstrumentations(config.instrumentations, config.disabledInstrumentations);
  const spanProcessors: SpanProcessor[] = [];
  const instrumentations = [];
  for (const e of entries) {
    try {
      instrumentations.push(...e.create(deps));
      if (e.spanProcessors !== undefined) spanProcessors.push(...e.spanProcessors(deps));
    } catch (err) {
      internalError(`instrumentation ${e.name}`, err);
    }
  }
  const tracerProvider = new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors, resource });
  const unregister = registerInstrumentations({ instrumentations, tracerProvider });

  setLogger(logger);

  delivery.start();
  if (integrity !== undefined) {
    emit('security.integrity_genesis', { 'audit.integrity.algorithm': 'HMAC-SHA256', 'audit.integrity.signing': config.signingKeyFile !== undefined ? 'Ed25519' : 'none' }, { body: 'tamper-evident stream starts', state: null });
  }
  const stopHeartbeat = startHeartbeat(config.heartbeatIntervalMs, delivery);
  let metrics: AgentMetrics | undefined;
  try {
    metrics = startAgentMetrics(config, resource, env);
  } catch (err) {
    internalError('metrics', err);
  }
  const stopCheckpoints = integrity !== undefined ? startCheckpoints(integrity, config.checkpointIntervalMs) : () => undefined;

  const agent: Agent = {
    config,
    serviceInstanceId,
    loggerProvider,
    delivery,
    forceFlush: () => loggerProvider.forceFlush(),
    shutdown: (reason?: string) => {
      shuttingDown ??= (async () => {
        emit(
          'security.sys_shutdown',
          {
            'tripline.shutdown.reason': reason ?? 'shutdown',
            'tripline.records.accepted': stats.accepted,
            'tripline.records.dropped': totalDropped(),
            'tripline.internal_errors': stats.internalErrors,
          },
          { body: `tripline agent stopping (${reason ?? 'shutdown'})`, state: null },
        );
        stopCheckpoints();
        if (integrity !== undefined) {
          const head = integrity.head;
          emit('security.integrity_end', { 'audit.integrity.head_seq': head.seq, 'audit.integrity.head': head.mac, 'audit.integrity.signature': integrity.signHead() }, { body: 'tamper-evident stream ends cleanly', state: null });
        }
        setLogger(undefined);
        stopHeartbeat();
        try {
          unregister();
        } catch (err) {
          internalError('unregister', err);
        }
        // deliver within the timeout; what is left is spooled to disk for the next start
        await delivery.shutdownWithin(config.shutdownTimeoutMs);
        // the counters' last values, bounded like the rest of shutdown
        if (metrics !== undefined) await Promise.race([metrics.shutdown(), new Promise((r) => setTimeout(r, Math.min(1000, config.shutdownTimeoutMs)).unref())]);
        await loggerProvider.shutdown().catch(() => undefined);
        await tracerProvider.shutdown().catch(() => undefined);
        current = undefined;
        delete g[GLOBAL_KEY];
      })();
      return shuttingDown;
    },
  };
  current = agent;
  g[GLOBAL_KEY] = agent;
  shuttingDown = undefined;

  emit(
    'security.sys_startup',
    {
      'tripline.version': VERSION,
      'process.runtime.version': process.versions.node,
      'tripline.instrumentations': entries.map((e) => e.name),
      'tripline.http_access_log': config.httpAccessLog,
      'tripline.config.problems': problems.length,
      'tripline.spool.records': delivery.spool.totalRecords,
    },
    { body: `tripline agent started (${entries.length} instrumentations)`, state: null },
  );

  if (opts.handleSignals !== false) installExitHandlers(agent);
  // Always: the synchronous last resort. process.exit(), a crash, or the loop ending under a
  // timeout: whatever is still buffered goes to the spool and is delivered by the next start.
  process.on('exit', () => {
    try {
      delivery.stopNow();
    } catch {
      // exiting anyway
    }
  });
  process.on('uncaughtExceptionMonitor', (err: unknown, origin: string) => {
    emit(
      'security.sys_crash',
      { 'error.type': err instanceof Error ? err.name : typeof err, 'exception.message': err instanceof Error ? err.message : String(err), 'tripline.crash.origin': origin },
      { body: 'the process is crashing on an uncaught exception', state: null },
    );
  });
  return agent;
}

/** Periodic checkpoints carry the chain head (signed with Ed25519 when configured), also when idle. */
function startCheckpoints(integrity: IntegrityProcessor, intervalMs: number): () => void {
  const t = setInterval(() => {
    const head = integrity.head;
    emit('security.integrity_checkpoint', { 'audit.integrity.head_seq': head.seq, 'audit.integrity.head': head.mac, 'audit.integrity.signature': integrity.signHead() }, { body: 'integrity checkpoint', state: null });
  }, intervalMs);
  t.unref();
  return () => clearInterval(t);
}

/** Flush everything and stop. Safe to call when not started. */
export async function shutdown(): Promise<void> {
  if (current !== undefined) await current.shutdown('api');
}

/**
 * SIGTERM/SIGINT: flush, then, if the app has no handler of its own, re-raise the signal so the process
 * ends exactly as it would have without the agent. beforeExit: flush and stop (the loop is empty).
 */
function installExitHandlers(agent: Agent): void {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const handler = (): void => {
      const appHandles = process.listenerCount(sig) > 1;
      void agent
        .shutdown(sig)
        .catch(() => undefined)
        .finally(() => {
          process.removeListener(sig, handler);
          if (!appHandles && process.listenerCount(sig) === 0) process.kill(process.pid, sig);
        });
    };
    process.on(sig, handler);
  }
  process.once('beforeExit', () => {
    void agent.shutdown('beforeExit');
  });
}
