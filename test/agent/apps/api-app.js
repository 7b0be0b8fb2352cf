// An Express app that uses tripline's explicit API (loaded from the build under test).
'use strict';
const express = require('express');
const { events, setUser } = require(process.env.TRIPLINE_INDEX);

const app = express();
app.use(express.json());
app.use((req, _res, next) => {
  const who = req.headers['x-user'];
  if (who) setUser(req, { id: `id-${who}`, username: who, roles: who === 'root' ? ['admin'] : ['user'] });
  next();
});
app.post('/api/login', (req, res) => {
  if (req.body.password === 'right') {
    events.loginSucceeded({ user: req.body.username, method: 'password' });
    return res.json({ ok: true });
  }
  events.loginFailed({ user: req.body.username, reason: 'bad_credentials', method: 'password' });
  res.status(401).json({ ok: false });
});
app.post('/api/users/:id/role', (req, res) => {
  events.privilegeChanged({ target: { id: req.params.id }, from: 'user', to: req.body.role });
  res.json({ ok: true });
});
app.get('/api/docs/:id', (req, res) => {
  events.accessDenied({ resource: `doc:${req.params.id}`, reason: 'not_owner' });
  res.status(404).end();
});
app.get('/api/custom', (_req, res) => {
  events.emit('authn_token_reuse', { 'security.token.id': 'abc' });
  events.emit(42); // bad input must not throw
  setUser(null, undefined);
  res.json({ ok: true });
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
