// The benchmark app: Express with a login route that checks a real bcrypt hash and queries
// PostgreSQL, a static route and a JSON API route. Listens on PORT and prints the line tests expect.
'use strict';
const express = require('express');
const bcrypt = require('bcryptjs');
const { Pool } = require('pg');

const COST = 4; // bcrypt cost: a real hash check that keeps the route in the low milliseconds
const pool = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 8 });
const TABLE = 'tripline_bench_users';
const app = express();
app.use(express.json());
app.get('/static', (_req, res) => res.type('text/plain').send('hello, static world'));
app.get('/api/items', (_req, res) => res.json({ items: Array.from({ length: 10 }, (_, i) => ({ id: i, name: `item ${i}`, price: i * 3.5 })) }));
app.post('/login', async (req, res) => {
  try {
    const { rows } = await pool.query(`SELECT id, password_hash FROM ${TABLE} WHERE name = $1`, [req.body.username]);
    const ok = rows.length === 1 && (await bcrypt.compare(String(req.body.password), rows[0].password_hash));
    if (!ok) return res.status(401).json({ error: 'invalid credentials' });
    res.json({ ok: true });
  } catch (e) {
    res.status(500).json({ error: 'db' });
  }
});

(async () => {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (id serial PRIMARY KEY, name text UNIQUE, password_hash text)`);
  await pool.query(`INSERT INTO ${TABLE} (name, password_hash) VALUES ('bench', $1) ON CONFLICT (name) DO NOTHING`, [bcrypt.hashSync('bench-password', COST)]);
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
})();
