// jose (ESM) protecting an API: run with --import.
import express from 'express';
import * as jose from 'jose';
const secret = new TextEncoder().encode('jose-hmac-secret-for-tests-32-bytes!');
const app = express();
app.use(express.json());
app.post('/token', async (req, res) => {
  const t = await new jose.SignJWT({ roles: ['reader'] }).setProtectedHeader({ alg: 'HS256' }).setSubject(req.body.sub).setJti(`jti-${Date.now()}`).setExpirationTime(req.body.exp ?? '1m').sign(secret);
  res.json({ token: t });
});
app.get('/api/data', async (req, res) => {
  try {
    await jose.jwtVerify((req.headers.authorization || '').replace(/^Bearer /, ''), secret, { audience: req.query.aud });
    res.json({ ok: true });
  } catch (err) {
    res.status(401).json({ error: err.code });
  }
});
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
