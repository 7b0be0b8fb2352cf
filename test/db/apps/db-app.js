// An Express app on real PostgreSQL, MariaDB and Redis, for the database tests. It knows nothing about
// tripline except setUser (from the build under test) to name the acting user from a header.
'use strict';
const express = require('express');
const { Pool } = require('pg');
const mysql = require('mysql2/promise');
const legacyMysql = require('mysql');
const Redis = require('ioredis');
const { setUser } = require(process.env.TRIPLINE_INDEX);

const NS = process.env.DB_NS; // unique per test run
const pg = new Pool({ connectionString: `postgres://postgres:pg-Secret-Pass-42@127.0.0.1:5432/test`, max: 3 });
const my = mysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test', connectionLimit: 3 });
const legacy = legacyMysql.createPool({ host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test', connectionLimit: 2 });
const lq = (sql, values) => new Promise((resolve, reject) => legacy.query(sql, values, (e, rows) => (e ? reject(e) : resolve(rows))));
const redis = new Redis({ host: '127.0.0.1', port: 6379, db: 9, lazyConnect: false });

const app = express();
app.use(express.json());
app.use((req, _res, next) => {
  if (req.headers['x-user']) setUser(req, { id: `u-${req.headers['x-user']}`, username: req.headers['x-user'] });
  next();
});
const wrap = (fn) => (req, res) => fn(req, res).catch((e) => res.status(500).json({ error: e.code || e.message }));

app.get('/pg/products', wrap(async (req, res) => {
  const { rows } = await pg.query(`SELECT id, name FROM ${NS}.products WHERE category = '${req.query.category}'`);
  res.json(rows);
}));
app.get('/pg/products/safe', wrap(async (req, res) => {
  const { rows } = await pg.query(`SELECT id, name FROM ${NS}.products WHERE category = $1`, [req.query.category]);
  res.json(rows);
}));
app.get('/pg/products/:id', wrap(async (req, res) => {
  const { rows } = await pg.query(`SELECT id, name FROM ${NS}.products WHERE id = ${req.params.id}`);
  res.json(rows);
}));
app.post('/pg/users/:name/role', wrap(async (req, res) => {
  const r = await pg.query(`UPDATE ${NS}.users SET role = $1 WHERE name = $2`, [req.body.role, req.params.name]);
  res.json({ updated: r.rowCount });
}));
app.get('/pg/accounts', wrap(async (_req, res) => {
  const { rows } = await pg.query(`SELECT * FROM ${NS}.accounts`);
  res.json({ n: rows.length });
}));
app.post('/pg/notes', wrap(async (req, res) => {
  await pg.query(`INSERT INTO ${NS}.notes (body) VALUES ('${req.body.literal}')`);
  res.status(201).end();
}));
app.get('/pg/callback', (req, res) => {
  pg.connect((err, client, release) => {
    if (err) return res.status(500).end();
    client.query(`SELECT count(*) FROM ${NS}.products`, (e, r) => {
      release();
      res.json({ n: e ? -1 : Number(r.rows[0].count) });
    });
  });
});

app.get('/my/products', wrap(async (req, res) => {
  const [rows] = await my.query(`SELECT id, name FROM ${NS}.products WHERE category = '${req.query.category}'`);
  res.json(rows);
}));
app.get('/my/products/safe', wrap(async (req, res) => {
  const [rows] = await my.execute(`SELECT id, name FROM ${NS}.products WHERE category = ?`, [req.query.category]);
  res.json(rows);
}));
app.get('/my/products/interp', wrap(async (req, res) => {
  const [rows] = await my.query(`SELECT id, name FROM ${NS}.products WHERE category = ?`, [req.query.category]);
  res.json(rows);
}));
app.post('/my/users/:name/role', wrap(async (req, res) => {
  const [r] = await my.query(`UPDATE ${NS}.users SET role = ? WHERE name = ?`, [req.body.role, req.params.name]);
  res.json({ updated: r.affectedRows });
}));
app.get('/my/accounts', wrap(async (_req, res) => {
  const [rows] = await my.query(`SELECT * FROM ${NS}.accounts`);
  res.json({ n: rows.length });
}));

// the legacy mysql client: callback API through a pool, and a streamed query without a callback
app.get('/legacy/products', wrap(async (req, res) => res.json(await lq(`SELECT id, name FROM ${NS}.products WHERE category = '${req.query.category}'`))));
app.get('/legacy/products/safe', wrap(async (req, res) => res.json(await lq(`SELECT id, name FROM ${NS}.products WHERE category = ?`, [req.query.category]))));
app.post('/legacy/users/:name/role', wrap(async (req, res) => res.json({ n: (await lq(`UPDATE ${NS}.users SET role = ? WHERE name = ?`, [req.body.role, req.params.name])).affectedRows })));
app.get('/legacy/accounts/stream', (req, res) => {
  let n = 0;
  legacy
    .query(`SELECT * FROM ${NS}.accounts`)
    .on('result', () => n++)
    .on('error', (e) => res.status(500).json({ error: e.code }))
    .on('end', () => res.headersSent || res.json({ n }));
});

app.post('/redis/session', wrap(async (req, res) => {
  await redis.set(`session:${req.body.id}`, req.body.value, 'EX', 60);
  const v = await redis.get(`session:${req.body.id}`);
  await redis.call('AUTH', 'redis-Secret-Pass-7').catch(() => undefined);
  res.json({ ok: v === req.body.value });
}));
app.post('/redis/flush', wrap(async (_req, res) => {
  await redis.flushdb();
  res.json({ ok: true });
}));

async function setup() {
  await pg.query(`CREATE SCHEMA ${NS}`);
  await pg.query(`CREATE TABLE ${NS}.products (id serial PRIMARY KEY, name text, category text)`);
  await pg.query(`CREATE TABLE ${NS}.users (id serial PRIMARY KEY, name text, role text)`);
  await pg.query(`CREATE TABLE ${NS}.accounts (id serial PRIMARY KEY, owner text)`);
  await pg.query(`CREATE TABLE ${NS}.notes (id serial PRIMARY KEY, body text)`);
  await pg.query(`INSERT INTO ${NS}.products (name, category) VALUES ('lamp', 'home'), ('desk', 'office')`);
  await pg.query(`INSERT INTO ${NS}.users (name, role) VALUES ('bob', 'user')`);
  await pg.query(`INSERT INTO ${NS}.accounts (owner) SELECT 'c' || g FROM generate_series(1, 150) g`);
  await my.query(`CREATE DATABASE ${NS}`);
  await my.query(`CREATE TABLE ${NS}.products (id int AUTO_INCREMENT PRIMARY KEY, name text, category text)`);
  await my.query(`CREATE TABLE ${NS}.users (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50), role text)`);
  await my.query(`CREATE TABLE ${NS}.accounts (id int AUTO_INCREMENT PRIMARY KEY, owner text)`);
  await my.query(`INSERT INTO ${NS}.products (name, category) VALUES ('lamp', 'home'), ('desk', 'office')`);
  await my.query(`INSERT INTO ${NS}.users (name, role) VALUES ('bob', 'user')`);
  const values = Array.from({ length: 150 }, (_, i) => `('c${i}')`).join(',');
  await my.query(`INSERT INTO ${NS}.accounts (owner) VALUES ${values}`);
}
async function teardown() {
  await pg.query(`DROP SCHEMA IF EXISTS ${NS} CASCADE`).catch(() => {});
  await my.query(`DROP DATABASE IF EXISTS ${NS}`).catch(() => {});
}
app.post('/teardown', wrap(async (_req, res) => {
  await teardown();
  res.json({ ok: true });
}));

setup()
  .then(() => {
    const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
  })
  .catch(async (e) => {
    console.error('setup failed', e);
    await teardown();
    process.exit(1);
  });
