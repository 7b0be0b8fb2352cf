import { ValueType } from '@opentelemetry/api';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { TriplineConfig } from '../config';
import { stats } from '../internal/diag';
import { exporterOptions } from './pipeline';
import { VERSION } from '../version';

/** The counters the agent keeps about itself, as OTel metrics (observable, read at each export). */
export interface AgentMetrics {
  shutdown(): Promise<void>;
}

/**
 * tripline's self-monitoring as OTel metrics, next to the security.sys_monitor heartbeat records: what
 * it accepted, exported, spooled, retried and dropped (by reason). The meter provider is private to the
 * agent (the app's own metrics, and upstream instrumentations' histograms, are not touched). The periodic
 * reader exports with tracing suppressed. OTEL_METRICS_EXPORTER=none turns it off.
 */
export function startAgentMetrics(config: TriplineConfig, resource: Resource, env: NodeJS.ProcessEnv = process.env): AgentMetrics | undefined {
  if (config.metricsExporter === 'none') return undefined;
  const opts = exporterOptions(env, 'METRICS', 'metrics');
  const exporter = config.metricsProtocol === 'http/json' ? new OTLPJsonMetricExporter(opts) : new OTLPProtoMetricExporter(opts);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: config.metricsIntervalMs, exportTimeoutMillis: Math.min(30_000, config.metricsIntervalMs) });
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('tripline', VERSION);
  const counter = (name: string, description: string, read: () => number): void => {
    meter.createObservableCounter(name, { description, unit: '{record}', valueType: ValueType.INT }).addCallback((r) => r.observe(read()));
  };
  counter('tripline.records.accepted', 'Records handed to the export pipeline (after redaction)', () => stats.accepted);
  counter('tripline.records.exported', 'Records acknowledged by the receiver', () => stats.exported);
  counter('tripline.records.spooled', 'Records written to the on-disk spool while the receiver was away', () => stats.spooled);
  meter.createObservableCounter('tripline.export.retries', { description: 'Export attempts retried', unit: '{attempt}', valueType: ValueType.INT }).addCallback((r) => r.observe(stats.retried));
  meter.createObservableCounter('tripline.internal_errors', { description: 'Internal errors caught (the app was not affected)', unit: '{error}', valueType: ValueType.INT }).addCallback((r) => r.observe(stats.internalErrors));
  meter.createObservableCounter('tripline.records.dropped', { description: 'Records given up, by reason', unit: '{record}', valueType: ValueType.INT }).addCallback((r) => {
    let any = false;
    for (const reason in stats.dropped) {
      any = true;
      r.observe(stats.dropped[reason] ?? 0, { 'tripline.drop.reason': reason });
    }
    if (!any) r.observe(0);
  });
  return {
    shutdown: () => provider.shutdown().catch(() => undefined),
  };
}
