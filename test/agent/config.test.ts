import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { INSTRUMENTATION_NAMES, loadConfig, SPECS } from '../../src/config';
import { INSTRUMENTATIONS } from '../../src/instrumentations';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

const APP = join(ROOT, 'examples', 'express-app', 'app.js');

describe('loadConfig', () => {
  it('uses documented defaults when nothing is set', () => {
    const { config, problems } = loadConfig({});
    expect(problems).toEqual([]);
    for (const s of SPECS) expect(config[s.key]).toEqual(s.default);
    expect(config.protocol).toBe('http/protobuf');
    expect(config.disabled).toBe(false);
  });

  it('names the variable, the bad value and what is accepted, and falls back to the default', () => {
    const { config, problems } = loadConfig({
      TRIPLINE_HTTP_ACCESS_LOG: 'verbose',
      TRIPLINE_BULK_READ_ROWS: '-5',
      TRIPLINE_TRUSTED_PROXIES: '10.0.0.0/33,loopback',
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
      TRIPLINE_HASH_KEY: 'short',
    });
    expect(config.httpAccessLog).toBe('errors');
    expect(config.bulkReadRows).toBe(100);
    expect(config.trustedProxies).toEqual([]);
    expect(config.protocol).toBe('http/protobuf');
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/TRIPLINE_HTTP_ACCESS_LOG="verbose" is invalid; accepted: all, errors or none/);
    expect(problems.join('\n')).toMatch(/OTEL_EXPORTER_OTLP_LOGS_PROTOCOL="grpc" is not supported; accepted: http\/protobuf or http\/json/);
    // secrets are never echoed
    expect(problems.join('\n')).toMatch(/TRIPLINE_HASH_KEY=<hidden>/);
    expect(problems.join('\n')).not.toContain('short');
  });

  it('instrumentation names: the accepted list is exactly what ships, and a misspelt one is named', () => {
    expect([...new Set(INSTRUMENTATIONS.map((e) => e.name))].sort()).toEqual([...INSTRUMENTATION_NAMES].sort());
    const { config, problems } = loadConfig({ TRIPLINE_DISABLED_INSTRUMENTATIONS: 'pg,mongoose' });
    expect(config.disabledInstrumentations).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('TRIPLINE_DISABLED_INSTRUMENTATIONS="pg,mongoose" is invalid; accepted: comma-separated instrumentation names (http, express');
    expect(loadConfig({ TRIPLINE_INSTRUMENTATIONS: 'HTTP, Express' }).config.instrumentations).toEqual(['http', 'express']);
  });

  it('the metrics exporter variables are validated like the logs ones', () => {
    const { config, problems } = loadConfig({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'collector:4318', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'grpc', OTEL_METRICS_EXPORTER: 'prometheus' });
    expect(config.metricsProtocol).toBe('http/protobuf');
    expect(config.metricsExporter).toBe('otlp');
    for (const name of ['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'OTEL_METRICS_EXPORTER']) {
      expect(problems.filter((p) => p.startsWith(`tripline: ${name}=`))).toHaveLength(1);
    }
    expect(problems).toHaveLength(3);
  });

  it('parses lists, CIDRs and keywords', () => {
    const { config, problems } = loadConfig({ TRIPLINE_TRUSTED_PROXIES: '10.0.0.0/8, ::1, private', TRIPLINE_REDACT_PII: 'none', OTEL_SDK_DISABLED: 'true' });
    expect(problems).toEqual([]);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '::1', 'private']);
    expect(config.redactPii).toEqual([]);
    expect(config.disabled).toBe(true);
  });
});

describe('bad configuration in a real process', () => {
  it('prints one clear line per bad variable and the app still serves and ships', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(
      ['--require', REGISTER_CJS, APP],
      agentEnv(receiver.url, { TRIPLINE_HTTP_ACCESS_LOG: 'loud', TRIPLINE_USER_MODE: 'maybe', OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }),
    );
    try {
      expect((await http(app.port, 'GET', '/admin/users')).status).toBe(401);
      await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_fail'), 10_000, 'authz_fail');
      const out = app.output();
      expect(out).toMatch(/TRIPLINE_HTTP_ACCESS_LOG="loud" is invalid; accepted: all, errors or none\. Using the default \("errors"\)/);
      expect(out).toMatch(/TRIPLINE_USER_MODE="maybe" is invalid; accepted: identify, anonymize or off/);
      expect(out).toMatch(/OTEL_EXPORTER_OTLP_COMPRESSION="zstd" is invalid; accepted: gzip or none/);
      expect(receiver.byEvent('security.sys_startup')[0]?.attributes['tripline.config.problems']).toBe(3);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });

  it('an invalid endpoint URL falls back to the default and the app serves', async () => {
    const app = await startApp(['--require', REGISTER_CJS, APP], agentEnv('not a url'));
    try {
      expect((await http(app.port, 'GET', '/')).status).toBe(200);
      expect(app.output()).toMatch(/OTEL_EXPORTER_OTLP_ENDPOINT="not a url" is invalid; accepted: an http:\/\/ or https:\/\/ URL/);
    } finally {
      await app.stop();
    }
  });

  it('TRIPLINE_STRICT=true refuses to start on a bad variable', () => {
    const r = spawnSync(process.execPath, ['--require', REGISTER_CJS, '-e', 'console.log("app ran")'], {
      env: agentEnv('http://127.0.0.1:9', { TRIPLINE_STRICT: 'true', TRIPLINE_DB_QUERY_LOG: 'some' }),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/TRIPLINE_DB_QUERY_LOG="some" is invalid; accepted: all, writes, errors or none/);
    expect(r.stderr).toMatch(/refusing to start/);
    expect(r.stdout).not.toContain('app ran');
  });

  it('OTEL_SDK_DISABLED=true: the agent does nothing and the app runs', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, APP], agentEnv(receiver.url, { OTEL_SDK_DISABLED: 'true' }));
    try {
      expect((await http(app.port, 'GET', '/admin/users')).status).toBe(401);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await app.stop();
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.records).toHaveLength(0);
    await receiver.stop();
  });
});
