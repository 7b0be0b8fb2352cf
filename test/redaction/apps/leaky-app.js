// An app that carelessly puts secrets everywhere a security log could pick them up.
'use strict';
const express = require('express');
const { events } = require(process.env.TRIPLINE_INDEX);
const app = express();
app.use(express.json({ limit: '1mb' }));
app.use(express.urlencoded({ extended: true }));
app.get('/search', (_req, res) => res.status(404).json({ results: [] }));
app.get('/reset/:token', (_req, res) => res.status(401).end());
app.post('/api/profile', (req, res) => {
  events.emit('user_updated', { profile: req.body, note: `updated with ${JSON.stringify(req.body)}` });
  res.json({ ok: true });
});
app.post('/api/error', (req, res) => {
  events.emit('sys_crash', { 'error.message': String(req.body.message) }, { body: `crash: ${req.body.message}` });
  res.status(500).end();
});
app.post('/login', (_req, res) => res.status(401).json({ error: 'no' }));
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
