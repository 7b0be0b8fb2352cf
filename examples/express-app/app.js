// Example app used by the demo, the tests and the benchmarks. It knows nothing about tripline:
// run it with `node --require tripline/register examples/express-app/app.js`.
'use strict';
const express = require('express');

const app = express();
app.use(express.json());
app.use(express.urlencoded({ extended: false }));

const USERS = new Map([
  ['alice', { id: '1', password: 'correct horse battery staple', role: 'user' }],
  ['bob', { id: '2', password: 'hunter2hunter2', role: 'user' }],
  ['admin', { id: '3', password: 'admin-very-secret', role: 'admin' }],
]);
const TOKENS = new Map(); // token -> username

app.get('/', (_req, res) => res.send('ok'));
app.get('/health', (_req, res) => res.json({ status: 'up' }));

app.get('/api/items', (_req, res) => {
  res.json([{ id: 1, name: 'lamp' }, { id: 2, name: 'desk' }]);
});

// A hand-written login route: no passport, no tripline calls.
app.post('/login', (req, res) => {
  const { username, password } = req.body ?? {};
  const user = USERS.get(username);
  if (!user || user.password !== password) {
    res.status(401).json({ error: 'invalid credentials' });
    return;
  }
  const token = `tok_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  TOKENS.set(token, username);
  res.json({ token });
});

function authenticated(req) {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer (.+)$/.exec(h);
  const name = m ? TOKENS.get(m[1]) : undefined;
  return name ? { name, ...USERS.get(name) } : undefined;
}

app.get('/admin/users', (req, res) => {
  const user = authenticated(req);
  if (!user) return res.status(401).json({ error: 'login required' });
  if (user.role !== 'admin') return res.status(403).json({ error: 'forbidden' });
  res.json([...USERS.keys()]);
});

app.post('/admin/users/:name/role', (req, res) => {
  const user = authenticated(req);
  if (!user || user.role !== 'admin') return res.status(403).json({ error: 'forbidden' });
  const target = USERS.get(req.params.name);
  if (!target) return res.status(404).json({ error: 'no such user' });
  target.role = String(req.body?.role ?? 'user');
  res.json({ ok: true });
});

// A rate-limited route: 5 requests per 10 s per client.
const hits = new Map();
app.get('/api/search', (req, res) => {
  const key = req.socket.remoteAddress;
  const now = Date.now();
  const recent = (hits.get(key) ?? []).filter((t) => now - t < 10_000);
  recent.push(now);
  hits.set(key, recent);
  if (recent.length > 5) return res.status(429).json({ error: 'slow down' });
  res.json({ q: req.query.q ?? '', results: [] });
});

// Input validation.
app.post('/api/orders', (req, res) => {
  const { item, quantity } = req.body ?? {};
  if (typeof item !== 'string' || !Number.isInteger(quantity) || quantity < 1) {
    return res.status(422).json({ error: 'item (string) and quantity (positive integer) are required' });
  }
  res.status(201).json({ id: Date.now(), item, quantity });
});

// --- PostgreSQL-backed routes (used when a database is reachable: DATABASE_URL, default local `test`) ---
let db;
try {
  const { Pool } = require('pg');
  db = new Pool({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', max: 4, connectionTimeoutMillis: 2000 });
  db.on('error', () => {});
} catch {
  db = undefined;
}
const SCHEMA = process.env.DEMO_SCHEMA ?? 'shop_demo';
async function setupDb() {
  if (!db) return false;
  try {
    await db.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
    await db.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.products (id serial PRIMARY KEY, name text, category text, price numeric)`);
    await db.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.users (id serial PRIMARY KEY, name text UNIQUE, role text)`);
    await db.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.accounts (id serial PRIMARY KEY, owner text, iban text, balance numeric)`);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.accounts`);
    if (rows[0].n === 0) {
      await db.query(`INSERT INTO ${SCHEMA}.products (name, category, price) VALUES ('lamp','home',20),('desk','office',150),('pen','office',2)`);
      await db.query(`INSERT INTO ${SCHEMA}.users (name, role) VALUES ('alice','user'),('bob','user'),('admin','admin') ON CONFLICT DO NOTHING`);
      await db.query(`INSERT INTO ${SCHEMA}.accounts (owner, iban, balance) SELECT 'customer-' || g, 'DE' || lpad(g::text, 20, '0'), g * 10 FROM generate_series(1, 500) g`);
    }
    return true;
  } catch {
    return false;
  }
}
const dbReady = setupDb();
async function withDb(res, fn) {
  if (!(await dbReady)) return res.status(503).json({ error: 'database unavailable' });
  try {
    await fn();
  } catch (err) {
    res.status(500).json({ error: 'query failed' });
  }
}

// Deliberately vulnerable: the category is concatenated into the SQL (the demo's injection target).
app.get('/api/products', (req, res) =>
  withDb(res, async () => {
    const category = String(req.query.category ?? 'home');
    const { rows } = await db.query(`SELECT id, name, price FROM ${SCHEMA}.products WHERE category = '${category}'`);
    res.json(rows);
  }),
);

// The same lookup done right: hostile input as a bound parameter is not an attack on the database.
app.get('/api/products/safe', (req, res) =>
  withDb(res, async () => {
    const { rows } = await db.query(`SELECT id, name, price FROM ${SCHEMA}.products WHERE category = $1`, [String(req.query.category ?? 'home')]);
    res.json(rows);
  }),
);

// An admin grants a role: an UPDATE of a role column, parameterized.
app.put('/admin/users/:name/role', (req, res) =>
  withDb(res, async () => {
    const user = authenticated(req);
    if (!user || user.role !== 'admin') return res.status(403).json({ error: 'forbidden' });
    await db.query(`UPDATE ${SCHEMA}.users SET role = $1 WHERE name = $2`, [String(req.body?.role ?? 'user'), req.params.name]);
    res.json({ ok: true });
  }),
);

// A bulk export of a sensitive table.
app.get('/api/accounts/export', (req, res) =>
  withDb(res, async () => {
    if (!authenticated(req)) return res.status(401).json({ error: 'login required' });
    const { rows } = await db.query(`SELECT owner, iban, balance FROM ${SCHEMA}.accounts`);
    res.json({ count: rows.length });
  }),
);

app.get('/boom', () => {
  throw new Error('handler failed');
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
module.exports = server;
