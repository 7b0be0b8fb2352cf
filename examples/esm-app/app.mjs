// ESM example: run with `node --import tripline/register examples/esm-app/app.mjs`.
import express from 'express';

const app = express();
app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/secret', (_req, res) => res.status(403).json({ error: 'forbidden' }));
app.get('/limited', (_req, res) => res.status(429).end());

const server = app.listen(Number(process.env.PORT ?? 3001), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
