import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
export { startApp, type AppProcess } from '../../src/demo/app-process';

export const ROOT = join(__dirname, '..', '..');
/** The built preloads, as a user's `--require tripline/register` / `--import tripline/register` resolve them. */
// TRIPLINE_DIST lets several developers build and test side by side (scripts/build-to.sh DIR).
export const DIST = process.env.TRIPLINE_DIST !== undefined ? join(ROOT, process.env.TRIPLINE_DIST) : join(ROOT, 'dist');
export const REGISTER_CJS = join(DIST, 'register.js');
export const REGISTER_ESM = join(DIST, 'register.mjs');

/** Environment for an app under the agent, exporting to the given receiver quickly. */
export function agentEnv(receiverUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TRIPLINE_') || k.startsWith('OTEL_')) delete env[k];
  return {
    ...env,
    PORT: '0',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    OTEL_SERVICE_NAME: 'test-app',
    // each app its own spool, so one test's leftovers are never replayed into another's receiver
    TRIPLINE_SPOOL_DIR: mkdtempSync(join(tmpdir(), 'tripline-test-spool-')),
    ...extra,
  };
}

export interface HttpResult {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** A plain HTTP call to 127.0.0.1:port. A JSON body is sent as JSON; a string body as is. */
export function http(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const h: Record<string, string> = { ...headers };
    if (data !== undefined && h['content-type'] === undefined) h['content-type'] = typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json';
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: h }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b, headers: res.headers }));
    });
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}
