import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { ROOT, REGISTER_CJS, agentEnv, http, startApp } from '../helpers/app';

const PLAIN = join(ROOT, 'test', 'agent', 'apps', 'plain.js');

function rawRequest(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(payload));
    let out = '';
    sock.on('data', (c) => (out += c.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    setTimeout(() => sock.destroy(), 3000);
  });
}

async function withAndWithout<T>(fn: (args: string[], env: NodeJS.ProcessEnv, receiver: OtlpReceiver) => Promise<T>): Promise<{ plain: T; agent: T; receiver: OtlpReceiver }> {
  const receiver = await new OtlpReceiver().start();
  const env = agentEnv(receiver.url);
  const plain = await fn([PLAIN], env, receiver);
  const agent = await fn(['--require', REGISTER_CJS, PLAIN], env, receiver);
  return { plain, agent, receiver };
}

describe('the app behaves exactly as without the agent', () => {
  it('a handler that throws crashes the process the same way, and the crash is not hidden', async () => {
    const { plain, agent, receiver } = await withAndWithout(async (args, env) => {
      const app = await startApp(args, env);
      await http(app.port, 'GET', '/throw').catch((e: Error) => e.message);
      const exit = await app.stop('SIGKILL', 5000);
      return { code: exit.code, crashed: /plain handler failed/.test(app.output()) };
    });
    await receiver.stop();
    expect(plain).toEqual({ code: 1, crashed: true });
    expect(agent).toEqual(plain);
  });

  it('a malformed request line gets the same 400 and is recorded as input_validation_fail', async () => {
    const { plain, agent, receiver } = await withAndWithout(async (args, env) => {
      const app = await startApp(args, env);
      const answer = await rawRequest(app.port, 'G@RBAGE /\x01 HTTP/1.1\r\n\r\n');
      const ok = await http(app.port, 'GET', '/ok');
      await app.stop();
      return { answer: answer.split('\r\n')[0], ok: ok.status };
    });
    expect(plain).toEqual({ answer: 'HTTP/1.1 400 Bad Request', ok: 200 });
    expect(agent).toEqual(plain);
    const recs = await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.input_validation_fail'), 10_000, 'clientError record');
    const rec = recs.find((r) => r.eventName === 'security.input_validation_fail') as FlatRecord;
    expect(rec.attributes['security.reason']).toBe('malformed_request');
    expect(String(rec.attributes['error.type'])).toMatch(/^HPE_/);
    expect(rec.attributes['client.address']).toBe('127.0.0.1');
    await receiver.stop();
  });

  it('a client that aborts mid-request: the app goes on and the agent records the abort', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, PLAIN], agentEnv(receiver.url));
    try {
      await new Promise<void>((resolve) => {
        const req = request({ host: '127.0.0.1', port: app.port, path: '/slow' });
        req.on('error', () => resolve());
        req.end();
        setTimeout(() => req.destroy(), 200);
      });
      expect((await http(app.port, 'GET', '/ok')).status).toBe(200);
      const recs = await receiver.waitFor((rs) => rs.some((r) => r.attributes['url.path'] === '/slow'), 10_000, 'aborted request record');
      const rec = recs.find((r) => r.attributes['url.path'] === '/slow') as FlatRecord;
      expect(rec.eventName).toBe('http.server.request');
      expect(rec.attributes['error.type']).toBe('client_aborted');
      await new Promise((r) => setTimeout(r, 1600)); // the late res.end() must not throw either
      expect((await http(app.port, 'GET', '/ok')).status).toBe(200);
      expect(app.output()).not.toMatch(/Error|tripline: internal/);
    } finally {
      await app.stop();
      await receiver.stop();
    }
  });
});

describe('package managers under NODE_OPTIONS', () => {
  it('npm/npx/yarn/pnpm processes get no agent of their own; the app they start does', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tl-pm-'));
    const env = { ...agentEnv('http://127.0.0.1:9'), TRIPLINE_HTTP_ACCESS_LOG: 'loud' };
    for (const rel of ['npm/bin/npm-cli.js', 'npm/bin/npx-cli.js', 'yarn/bin/yarn.js', 'pnpm/bin/pnpm.cjs', 'bin/npm']) {
      const script = join(dir, rel);
      mkdirSync(join(script, '..'), { recursive: true });
      writeFileSync(script, "console.log('package manager ran')\n");
      const r = spawnSync(process.execPath, ['--require', REGISTER_CJS, script], { env, encoding: 'utf8' });
      expect([rel, r.stdout.trim(), r.stderr]).toEqual([rel, 'package manager ran', '']);
    }
    const app = join(dir, 'server.js');
    writeFileSync(app, "console.log('app ran')\n");
    const r = spawnSync(process.execPath, ['--require', REGISTER_CJS, app], { env, encoding: 'utf8' });
    expect(r.stderr).toContain('TRIPLINE_HTTP_ACCESS_LOG="loud" is invalid');
  });
});

describe('lifecycle', () => {
  it('SIGTERM without an app handler: records flushed, then the process ends by the signal as before', async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, PLAIN], agentEnv(receiver.url, { OTEL_BLRP_SCHEDULE_DELAY: '5000' }));
    await http(app.port, 'GET', '/denied');
    const exit = await app.stop('SIGTERM');
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' });
    // The batch delay is 5 s: these arrived because shutdown flushed them.
    expect(receiver.byEvent('security.authz_fail')).toHaveLength(1);
    expect(receiver.byEvent('security.sys_shutdown')).toHaveLength(1);
    expect(receiver.byEvent('security.sys_shutdown')[0]?.attributes['tripline.shutdown.reason']).toBe('SIGTERM');
    await receiver.stop();
  });

  it("SIGTERM with the app's own handler: the app decides the exit code", async () => {
    const receiver = await new OtlpReceiver().start();
    const app = await startApp(['--require', REGISTER_CJS, PLAIN], agentEnv(receiver.url, { APP_SIGTERM_HANDLER: '1', OTEL_BLRP_SCHEDULE_DELAY: '5000' }));
    await http(app.port, 'GET', '/denied');
    const exit = await app.stop('SIGTERM');
    expect(exit).toEqual({ code: 7, signal: null });
    expect(app.output()).toContain('app handled SIGTERM');
    await receiver.stop();
  });
});
