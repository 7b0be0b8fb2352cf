import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './app';

export const COLLECTOR_BIN = join(ROOT, 'collector', 'dist', 'otelcol-tripline');
export const COLLECTOR_CONFIG = join(ROOT, 'otel-collector.yaml');

/** Build the collector if needed (a no-op when cached). Throws with the build output on failure. */
export function ensureCollector(): void {
  const r = spawnSync('bash', [join(ROOT, 'collector', 'build.sh')], { encoding: 'utf8', timeout: 30 * 60_000 });
  if (r.status !== 0) throw new Error(`collector build failed:\n${r.stdout}\n${r.stderr}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunningCollector {
  proc: ChildProcess;
  /** OTLP/HTTP base URL agents send to. */
  otlpUrl: string;
  dataDir: string;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Start the built collector with otel-collector.yaml on free ports, the backend pointed at backendUrl.
 * Resolves when the health check answers.
 */
export async function startCollector(backendUrl: string, env: Record<string, string> = {}): Promise<RunningCollector> {
  const [http, grpc, metrics, health] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = env.TRIPLINE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'tripline-col-'));
  const proc = spawn(COLLECTOR_BIN, ['--config', COLLECTOR_CONFIG], {
    env: {
      PATH: process.env.PATH,
      TRIPLINE_BACKEND_ENDPOINT: backendUrl,
      TRIPLINE_BACKEND_ENCODING: 'json',
      TRIPLINE_DATA_DIR: dataDir,
      TRIPLINE_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      TRIPLINE_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      TRIPLINE_METRICS_HOST: '127.0.0.1',
      TRIPLINE_METRICS_PORT: String(metrics),
      TRIPLINE_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
      TRIPLINE_BATCH_TIMEOUT: '200ms',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`collector exited (${proc.exitCode}):\n${out}`);
    try {
      const r = await fetch(`http://127.0.0.1:${health}/`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`collector not healthy after 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    proc,
    otlpUrl: `http://127.0.0.1:${http}`,
    dataDir,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Build OTLP/JSON for records shaped like the agent's (docs/RECORDS.md). */
export function otlpJson(records: Array<{ event: string; attrs: Record<string, string | number | boolean>; severity?: number; body?: string; timeMs?: number }>, resource: Record<string, string> = { 'service.name': 'shop', 'service.instance.id': 'i-1' }): string {
  const kv = (o: Record<string, string | number | boolean>) =>
    Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : typeof v === 'boolean' ? { boolValue: v } : { stringValue: v } }));
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: kv(resource) },
        scopeLogs: [
          {
            scope: { name: 'tripline', version: '0.1.0' },
            logRecords: records.map((r) => ({
              timeUnixNano: String(BigInt(r.timeMs ?? Date.now()) * 1_000_000n),
              severityNumber: r.severity ?? 13,
              severityText: 'WARN',
              eventName: r.event,
              body: { stringValue: r.body ?? r.event },
              attributes: kv({ 'event.name': r.event, ...r.attrs }),
            })),
          },
        ],
      },
    ],
  });
}

export async function sendOtlp(otlpUrl: string, body: string): Promise<void> {
  const r = await fetch(`${otlpUrl}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) throw new Error(`collector answered ${r.status}: ${await r.text()}`);
}
