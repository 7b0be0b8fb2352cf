// A JWT-protected API (jsonwebtoken; the module name comes from JWT_MODULE for the version matrix).
'use strict';
const express = require('express');
const jwt = require('jsonwebtoken');
const SECRET = 'jwt-hmac-secret-for-tests';
const app = express();
app.use(express.json());
app.post('/token', (req, res) => res.json({ token: jwt.sign({ sub: req.body.sub, jti: `jti-${Date.now()}`, roles: ['reader'] }, SECRET, { expiresIn: req.body.exp ?? 60 }) }));
app.get('/api/data', (req, res) => {
  const token = (req.headers.authorization || '').replace(/^Bearer /, '');
  if (req.query.cb) {
    return jwt.verify(token, SECRET, { algorithms: ['HS256'] }, (err) => (err ? res.status(401).json({ error: err.message }) : res.json({ ok: true })));
  }
  try {
    jwt.verify(token, SECRET, { algorithms: ['HS256'] });
    res.json({ ok: true });
  } catch (err) {
    res.status(401).json({ error: err.message });
  }
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
