import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as OTLPJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as OTLPProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import type { TriplineConfig } from '../config';
import { DeliveryProcessor, processSpoolDir } from './delivery';

/** Where records go: the standard OTEL_EXPORTER_OTLP_* variables, read by the upstream exporter. */
export function createExporter(config: TriplineConfig, env: NodeJS.ProcessEnv = process.env): LogRecordExporter {
  const opts = exporterOptions(env, 'LOGS', 'logs');
  return config.protocol === 'http/json' ? new OTLPJsonLogExporter(opts) : new OTLPProtoLogExporter(opts);
}

/**
 * Options for an upstream OTLP exporter of one signal: none (it reads the OTEL_* variables itself), or,
 * when the signal's or the general endpoint is not an http(s) URL (reported by loadConfig), the default
 * endpoint instead of failing.
 */
export function exporterOptions(env: NodeJS.ProcessEnv, signal: 'LOGS' | 'METRICS', path: 'logs' | 'metrics'): { url?: string } {
  const bad = [env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`], env.OTEL_EXPORTER_OTLP_ENDPOINT].some((v) => v !== undefined && v !== '' && !validUrl(v));
  return bad ? { url: `http://localhost:4318/v1/${path}` } : {};
}

function validUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function envInt(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || !/^\d+$/.test(v.trim())) return dflt;
  return Number(v);
}

/** The delivery stage: tripline's queue, batching (OTEL_BLRP_* honoured), the exporter, the spool. */
export function createDelivery(config: TriplineConfig, serviceName: string, exporter: LogRecordExporter, onAvailability: (down: boolean, reason: string) => void, env: NodeJS.ProcessEnv = process.env): DeliveryProcessor {
  const maxQueue = envInt(env, 'OTEL_BLRP_MAX_QUEUE_SIZE', 8192);
  return new DeliveryProcessor(exporter, {
    maxQueue,
    maxBatch: Math.min(envInt(env, 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', 512), maxQueue),
    delayMs: envInt(env, 'OTEL_BLRP_SCHEDULE_DELAY', 1000),
    exportTimeoutMs: envInt(env, 'OTEL_BLRP_EXPORT_TIMEOUT', 30000),
    spoolDir: processSpoolDir(config.spoolDir, serviceName),
    spoolMaxBytes: config.spoolMaxBytes,
    onAvailability,
  });
}
