import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OtlpReceiver } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

const secrets = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'secrets.json'), 'utf8')) as Array<{ rule: string; value: string; secret?: string }>;
const benign = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'benign.json'), 'utf8')) as string[];

describe('no secret leaves the process (real app under --require, every place the agent records)', () => {
  it.each(['http/protobuf', 'http/json'])('over %s', async (protocol) => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'redaction', 'apps', 'leaky-app.js')], agentEnv(receiver.url, { TRIPLINE_INDEX: join(DIST, 'index.js'), TRIPLINE_HTTP_ACCESS_LOG: 'all', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: protocol }));
    try {
      let i = 0;
      for (const s of secrets) {
        const v = s.value;
        const where = i++ % 5;
        if (where === 0) await http(app.port, 'GET', `/search?q=lamp&token=${encodeURIComponent(v)}&note=${encodeURIComponent(`see ${v}`)}`);
        else if (where === 1) await http(app.port, 'POST', '/api/profile', { name: 'ann', settings: { nested: [{ apiKey: v }, { comment: `key is ${v}` }] } });
        else if (where === 2) await http(app.port, 'POST', '/api/error', { message: `upstream failed with ${v} while connecting` });
        else if (where === 3) await http(app.port, 'POST', '/api/profile', `name=ann&password=${encodeURIComponent(v)}&bio=${encodeURIComponent(`hello ${v}`)}`);
        else await http(app.port, 'GET', `/search?q=${encodeURIComponent(v)}`, undefined, { 'user-agent': `curl/8.0 ${v}` });
      }
      const jwt = secrets.find((s) => s.rule === 'jwt')?.value ?? '';
      await http(app.port, 'GET', `/reset/${jwt}`);
      await http(app.port, 'POST', '/login', { username: 'ann', password: 'Sup3r-S3cret-Login!' });
      // benign values travel the same ways and must survive
      await http(app.port, 'POST', '/api/profile', { notes: benign.slice(0, 20) });
      await receiver.waitFor((rs) => rs.filter((r) => r.eventName === 'security.user_updated').length >= 9, 15_000, 'all records');
      await new Promise((r) => setTimeout(r, 300));
      const bytes = receiver.allBytes().toString('latin1');
      const leaked = secrets.filter((s) => bytes.includes(s.secret ?? s.value)).map((s) => s.rule);
      expect(leaked).toEqual([]);
      expect(bytes).not.toContain('Sup3r-S3cret-Login!');
      expect(bytes).not.toContain(jwt.split('.')[1]);
      const redactedRecords = receiver.records.filter((r) => typeof r.attributes['tripline.redacted.count'] === 'number');
      expect(redactedRecords.length).toBeGreaterThan(10);
      expect(bytes).toContain('[REDACTED:');
      const survived = benign.slice(0, 20).filter((b) => bytes.includes(JSON.stringify(b).slice(1, -1)) || bytes.includes(b));
      expect(survived.length).toBe(20);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});
