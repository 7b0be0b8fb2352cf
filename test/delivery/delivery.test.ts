import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

const APP = join(ROOT, 'test', 'delivery', 'apps', 'emitter-app.js');
const seqs = (rs: FlatRecord[]): number[] => rs.filter((r) => r.attributes['test.seq'] !== undefined).map((r) => r.attributes['test.seq'] as number);
const spooled = (dir: string): number => {
  let n = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (/^\d{16}-[sl]-(\d+)\.json$/.test(e.name)) n += Number(/-(\d+)\.json$/.exec(e.name)?.[1] ?? 0);
    }
  };
  walk(dir);
  return n;
};
const env = (url: string, spool: string, extra: Record<string, string> = {}) =>
  agentEnv(url, { TRIPLINE_INDEX: join(DIST, 'index.js'), TRIPLINE_SPOOL_DIR: spool, OTEL_BLRP_SCHEDULE_DELAY: '100', TRIPLINE_HEARTBEAT_INTERVAL_MS: '1000', ...extra });

describe('delivery you can trust', () => {
  it('load: 20,000 records in bursts arrive exactly once, and the counters agree', async () => {
    const receiver = await new OtlpReceiver().start();
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const app = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool, { OTEL_METRIC_EXPORT_INTERVAL: '500', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }));
    try {
      for (let b = 0; b < 4; b++) await http(app.port, 'GET', '/burst?n=5000');
      await receiver.waitFor((rs) => new Set(seqs(rs)).size >= 20_000, 60_000, '20,000 records');
      const got = seqs(receiver.records);
      expect(got.length).toBe(20_000);
      expect(new Set(got).size).toBe(20_000);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.sys_monitor' && (r.attributes['tripline.records.exported_total'] as number) >= 20_000), 10_000, 'a heartbeat after the load');
      const hb = receiver.byEvent('security.sys_monitor').at(-1) as FlatRecord;
      expect(hb.attributes['tripline.records.dropped_total']).toBe(0);
      expect(hb.attributes['tripline.records.accepted_total']).toBeGreaterThanOrEqual(20_000);
      // the same counters as OTel metrics (OTLP/JSON here), read from the newest export that has caught up
      const metric = (name: string): number | undefined => {
        for (const r of [...receiver.requests].reverse()) {
          if (!r.path.startsWith('/v1/metrics')) continue;
          const body = JSON.parse(r.raw.toString('utf8')) as { resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<{ name: string; sum?: { dataPoints: Array<{ asInt?: string | number }> } }> }> }> };
          for (const rm of body.resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.name === name) return Number(m.sum?.dataPoints[0]?.asInt ?? NaN);
        }
        return undefined;
      };
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !((metric('tripline.records.exported') ?? 0) >= 20_000)) await new Promise((r) => setTimeout(r, 200));
      expect(metric('tripline.records.exported')).toBeGreaterThanOrEqual(20_000);
      expect(metric('tripline.records.accepted')).toBeGreaterThanOrEqual(20_000);
      expect(metric('tripline.records.dropped')).toBe(0);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  }, 120_000);

  it('outage: 503s, then refused connections for 10 s, then back: every record arrives, in order, none twice', async () => {
    let failing = false;
    let receiver = await new OtlpReceiver({ respond: () => (failing ? 503 : 200) }).start();
    const port = receiver.port;
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const app = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool));
    const all: FlatRecord[] = [];
    try {
      await http(app.port, 'GET', '/burst?n=200');
      await receiver.waitFor((rs) => seqs(rs).length >= 200, 10_000, 'first 200');
      failing = true;
      for (let i = 0; i < 3; i++) {
        await http(app.port, 'GET', '/burst?n=200');
        await new Promise((r) => setTimeout(r, 700));
      }
      all.push(...receiver.records);
      await receiver.stop();
      for (let i = 0; i < 4; i++) {
        await http(app.port, 'GET', '/burst?n=200');
        await new Promise((r) => setTimeout(r, 2500));
      }
      receiver = await new OtlpReceiver({ port }).start();
      await receiver.waitFor((rs) => new Set([...seqs(all), ...seqs(rs)]).size >= 1600, 60_000, 'all 1600 records after the outage');
      const got = [...seqs(all), ...seqs(receiver.records)];
      expect(new Set(got).size).toBe(1600);
      expect(got.length).toBe(1600);
      expect(got).toEqual([...got].sort((a, b) => a - b));
      expect(receiver.records.some((r) => r.eventName === 'security.sys_monitor_disabled')).toBe(true);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  }, 120_000);

  it('crash: records spooled while the collector was away survive a SIGKILL and are delivered by the next start', async () => {
    const receiver = await new OtlpReceiver().start();
    const port = receiver.port;
    await receiver.stop();
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const first = await startApp(['--require', REGISTER_CJS, APP], env(`http://127.0.0.1:${port}`, spool));
    await http(first.port, 'GET', '/burst?n=500');
    const deadline = Date.now() + 30_000;
    while (spooled(spool) < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(spooled(spool)).toBeGreaterThanOrEqual(500);
    await first.stop('SIGKILL');
    const back = await new OtlpReceiver({ port }).start();
    const second = await startApp(['--require', REGISTER_CJS, APP], env(back.url, spool, { SEQ_START: '10000' }));
    try {
      await back.waitFor((rs) => seqs(rs).filter((s) => s < 500).length >= 500, 30_000, 'the previous run\'s records');
      expect(new Set(seqs(back.records).filter((s) => s < 500)).size).toBe(500);
    } finally {
      await second.stop();
      await back.stop();
    }
  }, 120_000);

  it('SIGTERM: records emitted in the last milliseconds before the signal arrive', async () => {
    const receiver = await new OtlpReceiver().start();
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const app = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool, { OTEL_BLRP_SCHEDULE_DELAY: '10000' }));
    await http(app.port, 'GET', '/burst?n=300');
    const exit = await app.stop('SIGTERM');
    expect(exit.signal).toBe('SIGTERM');
    expect(new Set(seqs(receiver.records)).size).toBe(300);
    await receiver.stop();
  });

  it('process.exit() and an uncaught exception: the buffered records and the crash record are spooled and delivered next time; exit codes unchanged', async () => {
    const receiver = await new OtlpReceiver().start();
    const spool = mkdtempSync(join(tmpdir(), 'tl-spool-'));
    const app = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool, { OTEL_BLRP_SCHEDULE_DELAY: '10000' }));
    await http(app.port, 'GET', '/exit?n=40').catch(() => undefined);
    expect((await app.stop()).code).toBe(3);
    const crash = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool, { OTEL_BLRP_SCHEDULE_DELAY: '10000', SEQ_START: '100' }));
    await http(crash.port, 'GET', '/crash?n=10');
    const crashed = await crash.stop();
    expect(crashed.code).toBe(1);
    expect(crash.output()).toContain('boom from the app');
    const again = await startApp(['--require', REGISTER_CJS, APP], env(receiver.url, spool));
    try {
      await receiver.waitFor((rs) => seqs(rs).length >= 50 && rs.some((r) => r.eventName === 'security.sys_crash'), 20_000, 'spooled records from both runs');
      expect(new Set(seqs(receiver.records))).toEqual(new Set([...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => 100 + i)]));
      expect(receiver.byEvent('security.sys_crash')[0]?.attributes['exception.message']).toBe('boom from the app');
    } finally {
      await again.stop();
      await receiver.stop();
    }
  });
});
