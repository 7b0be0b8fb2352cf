import { request } from 'node:http';
import { join } from 'node:path';
import { OtlpReceiver } from '../otlp/receiver';
import type { FlatRecord } from '../otlp/records';
import { startApp } from './app-process';
import { table } from './table';

const ROOT = join(__dirname, '..', '..');

/** One JSON request to the demo app on loopback. */
export function call(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { ...(data !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        let b = '';
        res.on('data', (c: Buffer) => (b += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      },
    );
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

function describe(r: FlatRecord): string {
  const a = r.attributes;
  const parts: string[] = [];
  for (const k of ['user.name', 'security.reason', 'http.route', 'url.path', 'http.response.status_code', 'security.signature', 'db.collection.name']) {
    if (a[k] !== undefined) parts.push(`${k.split('.').pop() ?? k}=${String(a[k])}`);
  }
  return parts.join(' ');
}

/** The agent-only demo: the example app under the agent, a scripted session, the records it produced. */
export async function runAgentDemo(out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  const receiver = await new OtlpReceiver().start();
  out(`• stand-in OTLP backend listening on ${receiver.url}`);
  const app = await startApp(['--require', join(ROOT, 'dist', 'register.js'), join(ROOT, 'examples', 'express-app', 'app.js')], {
    ...process.env,
    PORT: '0',
    OTEL_SERVICE_NAME: 'demo-shop',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/json',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
  });
  out(`• example app under the agent on http://127.0.0.1:${app.port}`);
  try {
    const p = app.port;
    out('• playing a scripted session: normal browsing, wrong passwords, an admin probe, a burst, bad input');
    await call(p, 'GET', '/');
    await call(p, 'GET', '/api/items');
    for (let i = 0; i < 4; i++) await call(p, 'POST', '/login', { username: 'alice', password: `guess-${i}` });
    const ok = await call(p, 'POST', '/login', { username: 'alice', password: 'correct horse battery staple' });
    const token = (JSON.parse(ok.body) as { token?: string }).token ?? '';
    await call(p, 'GET', '/admin/users');
    await call(p, 'GET', '/admin/users', undefined, { authorization: `Bearer ${token}` });
    for (let i = 0; i < 8; i++) await call(p, 'GET', `/api/search?q=lamp${i}`);
    await call(p, 'POST', '/api/orders', { item: 'lamp', quantity: -3 });
    await call(p, 'GET', '/boom');
  } finally {
    await app.stop('SIGTERM');
  }
  await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sys_shutdown'), 10_000, 'the agent to flush').catch(() => undefined);
  await receiver.stop();
  const rows = receiver.records.map((r) => [
    new Date(Number(BigInt(r.timeUnixNano) / 1_000_000n)).toISOString().slice(11, 23),
    r.severityText,
    r.eventName,
    String(r.attributes['client.address'] ?? ''),
    describe(r),
  ]);
  out('');
  out(table(['time', 'severity', 'event', 'client', 'details'], rows));
  out('');
  out(`${receiver.records.length} records received over OTLP/HTTP (${receiver.requests.length} export requests).`);
  return 0;
}
