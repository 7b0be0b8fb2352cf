import { join } from 'node:path';
import { OtlpReceiver } from '../otlp/receiver';
import type { FlatRecord } from '../otlp/records';
import { startApp } from './app-process';
import { buildCollector, ROOT, runCollector } from './collector';
import { call as plainCall } from './run';
import { table } from './table';

const WINDOW_S = 5;

interface Step {
  /** What the attacker (or user) does. */
  title: string;
  /** The rule we expect to fire, if any. */
  rule?: string;
  run: (port: number) => Promise<void>;
}

function call(port: number, method: string, path: string, opts: { body?: unknown; from?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  // The app sits behind a (simulated) proxy on loopback, which the agent is told to trust.
  const headers = opts.from === undefined ? (opts.headers ?? {}) : { ...opts.headers, 'x-forwarded-for': opts.from };
  return plainCall(port, method, path, opts.body, headers);
}

async function login(port: number, username: string, password: string, from: string): Promise<string | undefined> {
  const r = await call(port, 'POST', '/login', { body: { username, password }, from });
  try {
    return (JSON.parse(r.body) as { token?: string }).token;
  } catch {
    return undefined;
  }
}

const ATTACKER = '203.0.113.66';
const STUFFER = '198.51.100.23';

const STEPS: Step[] = [
  {
    title: 'normal traffic: 5 customers browse, search and log in',
    run: async (p) => {
      for (let i = 0; i < 5; i++) {
        const from = `192.0.2.${10 + i}`;
        await call(p, 'GET', '/', { from });
        await call(p, 'GET', '/api/items', { from });
        await call(p, 'GET', '/api/products?category=office', { from });
      }
      await login(p, 'bob', 'hunter2hunter2', '192.0.2.10');
      await login(p, 'alice', 'correct horse battery staple', '192.0.2.11');
    },
  },
  {
    title: `brute force: ${ATTACKER} tries 12 passwords for "alice"`,
    rule: 'brute_force_user',
    run: async (p) => {
      for (let i = 0; i < 12; i++) await login(p, 'alice', `Summer202${i}!`, ATTACKER);
    },
  },
  {
    title: `credential stuffing: ${STUFFER} tries leaked pairs for 8 accounts`,
    rule: 'credential_stuffing',
    run: async (p) => {
      for (const u of ['carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy']) await login(p, u, 'Passw0rd!', STUFFER);
    },
  },
  {
    title: 'SQL injection: a tautology in the product search',
    rule: 'sql_injection',
    run: async (p) => {
      await call(p, 'GET', `/api/products?category=${encodeURIComponent("x' OR '1'='1")}`, { from: ATTACKER });
      await call(p, 'GET', `/api/products/safe?category=${encodeURIComponent("x' OR '1'='1")}`, { from: ATTACKER });
    },
  },
  {
    title: 'privilege escalation: the admin account grants "bob" the admin role',
    rule: 'privilege_change',
    run: async (p) => {
      const token = await login(p, 'admin', 'admin-very-secret', '192.0.2.99');
      await call(p, 'PUT', '/admin/users/bob/role', { body: { role: 'admin' }, from: '192.0.2.99', headers: { authorization: `Bearer ${token ?? ''}` } });
    },
  },
  {
    title: 'off-hours admin: the admin lists every user (the demo declares no business hours)',
    rule: 'offhours_admin',
    run: async (p) => {
      const token = await login(p, 'admin', 'admin-very-secret', '192.0.2.99');
      await call(p, 'GET', '/admin/users', { from: '192.0.2.99', headers: { authorization: `Bearer ${token ?? ''}` } });
    },
  },
  {
    title: 'data exfiltration: a logged-in user exports the accounts table',
    rule: 'sensitive_bulk_read',
    run: async (p) => {
      const token = await login(p, 'bob', 'hunter2hunter2', ATTACKER);
      await call(p, 'GET', '/api/accounts/export', { from: ATTACKER, headers: { authorization: `Bearer ${token ?? ''}` } });
    },
  },
];

function evidence(a: FlatRecord): string {
  const at = a.attributes;
  const who = [at['user.name'] !== undefined ? `user=${String(at['user.name'])}` : '', at['client.address'] !== undefined ? `from=${String(at['client.address'])}` : ''].filter(Boolean).join(' ');
  return `${who} count=${String(at['tripline.alert.count'] ?? 1)}${at['tripline.alert.window'] !== undefined ? ` in ${String(at['tripline.alert.window'])}` : ''}`;
}

/** `npm run demo`: collector + example app under the agent + scripted attack + the alerts it raised. */
export async function runFullDemo(out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  out('tripline demo: collector + app under the agent + a scripted attack\n');
  out('1/5 building the collector (first run compiles it from Go modules; later runs reuse it)');
  if (!buildCollector()) {
    out('The collector could not be built (is Go installed?). Showing the agent alone instead:\n');
    const { runAgentDemo } = await import('./run');
    return runAgentDemo(out);
  }
  const backend = await new OtlpReceiver().start();
  const collector = await runCollector(backend.url, {
    TRIPLINE_WINDOW: `${WINDOW_S}s`,
    // No business hours at all, so the scripted admin action is off-hours whatever the time.
    TRIPLINE_BUSINESS_HOURS_START: '0',
    TRIPLINE_BUSINESS_HOURS_END: '0',
  });
  out(`2/5 collector running otel-collector.yaml on ${collector.otlpUrl} (detection window ${WINDOW_S}s); stand-in backend on ${backend.url}`);
  const app = await startApp(['--require', join(ROOT, 'dist', 'register.js'), join(ROOT, 'examples', 'express-app', 'app.js')], {
    ...process.env,
    PORT: '0',
    OTEL_SERVICE_NAME: 'demo-shop',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpUrl,
    OTEL_BLRP_SCHEDULE_DELAY: '200',
    TRIPLINE_TRUSTED_PROXIES: 'loopback',
    TRIPLINE_HEARTBEAT_INTERVAL_MS: '5000',
  });
  out(`3/5 example shop under the agent on http://127.0.0.1:${app.port} (node --require tripline/register)\n`);
  out('4/5 playing the script; alerts are printed as the backend receives them\n');

  const t0 = Date.now();
  const stepStart = new Map<string, number>();
  const seen = new Set<FlatRecord>();
  const printAlerts = (): void => {
    for (const r of backend.records) {
      if (r.eventName !== 'security.alert' || seen.has(r)) continue;
      seen.add(r);
      const rule = String(r.attributes['security_rule.name']);
      const since = stepStart.get(rule);
      const ttd = since !== undefined ? `${((Date.now() - since) / 1000).toFixed(1)}s after the attack began` : '';
      out(`   🚨 ${r.severityText.padEnd(5)} ${rule.padEnd(22)} ${evidence(r)}  ${ttd}`);
    }
  };
  const timer = setInterval(printAlerts, 250);
  try {
    for (const step of STEPS) {
      out(` ▶ ${step.title}`);
      if (step.rule !== undefined) stepStart.set(step.rule, Date.now());
      await step.run(app.port);
      await new Promise((r) => setTimeout(r, 300));
    }
    out(`\n   waiting for the detection windows to close (${WINDOW_S}s tumbling windows)…`);
    const expected = STEPS.flatMap((s) => (s.rule !== undefined ? [s.rule] : []));
    await backend
      .waitFor((rs) => expected.every((rule) => rs.some((r) => r.attributes['security_rule.name'] === rule)), 3 * WINDOW_S * 1000 + 5000, 'alerts')
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    printAlerts();
  } finally {
    clearInterval(timer);
    await app.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    await collector.stop();
    await backend.stop();
  }

  out('\n5/5 summary\n');
  const alerts = backend.records.filter((r) => r.eventName === 'security.alert');
  const rows = STEPS.filter((s) => s.rule !== undefined).map((s) => {
    const hits = alerts.filter((a) => a.attributes['security_rule.name'] === s.rule);
    return [s.title.split(':')[0] ?? s.title, s.rule ?? '', hits.length > 0 ? 'DETECTED' : 'missed', hits.length > 0 ? evidence(hits[0] as FlatRecord) : ''];
  });
  out(table(['scenario', 'rule', 'result', 'evidence'], rows));
  const byEvent = new Map<string, number>();
  for (const r of backend.records) if (r.eventName !== 'security.alert') byEvent.set(r.eventName, (byEvent.get(r.eventName) ?? 0) + 1);
  out(`\nThe backend received ${backend.records.length - alerts.length} records from the agent and ${alerts.length} alerts in ${((Date.now() - t0) / 1000).toFixed(0)}s:`);
  out([...byEvent.entries()].sort((a, b) => b[1] - a[1]).map(([e, n]) => `  ${String(n).padStart(4)}  ${e}`).join('\n'));
  const missed = rows.filter((r) => r[2] !== 'DETECTED').length;
  out('\nNext: point your app at your own collector and backend:');
  out('  TRIPLINE_BACKEND_ENDPOINT=https://otlp.example.com otelcol-contrib --config otel-collector.yaml');
  out('  OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 node --require tripline/register app.js');
  out('(docker-compose.yml runs the same pipeline with a Grafana backend; collector/RULES.md explains every rule.)');
  return missed === 0 ? 0 : 1;
}
