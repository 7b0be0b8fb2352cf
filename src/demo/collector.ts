import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const COLLECTOR_BIN = join(ROOT, 'collector', 'dist', 'otelcol-tripline');
export const COLLECTOR_CONFIG = join(ROOT, 'otel-collector.yaml');

/** Build the collector (cached) with progress on the terminal. */
export function buildCollector(): boolean {
  const r = spawnSync('bash', [join(ROOT, 'collector', 'build.sh')], { stdio: 'inherit' });
  return r.status === 0 && existsSync(COLLECTOR_BIN);
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

export interface CollectorProcess {
  proc: ChildProcess;
  otlpUrl: string;
  dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Run the built collector with otel-collector.yaml on free local ports, the backend pointed at backendUrl
 * (the demo and the tests both). Resolves when the health check answers.
 */
export async function runCollector(backendUrl: string, env: Record<string, string> = {}): Promise<CollectorProcess> {
  const [http, grpc, metrics, health] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = env.TRIPLINE_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'tripline-collector-'));
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
    if (proc.exitCode !== null) throw new Error(`the collector exited (${proc.exitCode}):\n${out}`);
    try {
      if ((await fetch(`http://127.0.0.1:${health}/`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the collector did not become healthy:\n${out}`);
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
