import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { OtlpReceiver, type FlatRecord } from '../helpers/otlp-receiver';
import { DIST, ROOT, REGISTER_CJS, agentEnv, http, startApp, type AppProcess } from '../helpers/app';

describe('the explicit API: events.* and setUser', () => {
  let receiver: OtlpReceiver;
  let app: AppProcess;
  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    app = await startApp(['--require', REGISTER_CJS, join(ROOT, 'test', 'agent', 'apps', 'api-app.js')], agentEnv(receiver.url, { TRIPLINE_INDEX: join(DIST, 'index.js') }));
  });
  afterAll(async () => {
    await app?.stop();
    await receiver?.stop();
  });

  it('loginFailed / loginSucceeded, successafterfail, user and client', async () => {
    await http(app.port, 'POST', '/api/login', { username: 'carol', password: 'wrong' });
    await http(app.port, 'POST', '/api/login', { username: 'carol', password: 'wrong' });
    await http(app.port, 'POST', '/api/login', { username: 'carol', password: 'right' });
    await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authn_login_success'), 10_000, 'login success');
    const fails = receiver.byEvent('security.authn_login_fail');
    expect(fails).toHaveLength(2);
    expect(fails[0]?.attributes).toMatchObject({ 'user.name': 'carol', 'security.reason': 'bad_credentials', 'security.auth.method': 'password', 'client.address': '127.0.0.1', 'http.route': '/api/login' });
    expect(fails[0]?.severityText).toBe('WARN');
    const after = receiver.byEvent('security.authn_login_successafterfail')[0] as FlatRecord;
    expect(after.attributes['security.auth.previous_failures']).toBe(2);
    expect(after.attributes['user.name']).toBe('carol');
    expect(JSON.stringify(receiver.records)).not.toContain('"right"');
  });

  it('setUser attaches the user to every later record of the request, including status events', async () => {
    await http(app.port, 'POST', '/api/users/17/role', { role: 'admin' }, { 'x-user': 'root' });
    await http(app.port, 'GET', '/api/docs/5', undefined, { 'x-user': 'dave' });
    await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authz_change') && rs.some((r) => r.attributes['security.resource'] === 'doc:5'), 10_000, 'authz_change and the denied doc');
    const change = receiver.byEvent('security.authz_change')[0] as FlatRecord;
    expect(change.attributes).toMatchObject({ 'user.id': 'id-root', 'user.name': 'root', 'security.target.user.id': '17', 'security.privilege.from': 'user', 'security.privilege.to': 'admin' });
    expect(change.attributes['user.roles']).toEqual(['admin']);
    const denied = receiver.byEvent('security.authz_fail').find((r) => r.attributes['security.resource'] === 'doc:5') as FlatRecord;
    expect(denied.attributes).toMatchObject({ 'user.name': 'dave', 'security.resource': 'doc:5', 'security.reason': 'not_owner' });
  });

  it('events.emit takes vocabulary names; bad input neither throws nor records', async () => {
    expect((await http(app.port, 'GET', '/api/custom')).status).toBe(200);
    await receiver.waitFor((rs) => rs.some((r) => r.eventName === 'security.authn_token_reuse'), 10_000, 'token reuse');
    expect(receiver.byEvent('security.authn_token_reuse')[0]?.severityText).toBe('ERROR');
    expect(receiver.records.some((r) => r.eventName.includes('42'))).toBe(false);
  });
});
