// Emits numbered records on demand through the public API (each carries test.seq), for delivery tests.
'use strict';
const http = require('node:http');
const { events } = require(process.env.TRIPLINE_INDEX);
let seq = Number(process.env.SEQ_START ?? 0);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const n = Number(url.searchParams.get('n') ?? 1);
  if (url.pathname === '/burst') {
    for (let i = 0; i < n; i++) events.emit('authz_fail', { 'test.seq': seq++ });
    return res.end(String(seq));
  }
  if (url.pathname === '/exit') {
    for (let i = 0; i < n; i++) events.emit('authz_fail', { 'test.seq': seq++ });
    process.exit(3);
  }
  if (url.pathname === '/crash') {
    for (let i = 0; i < n; i++) events.emit('authz_fail', { 'test.seq': seq++ });
    setImmediate(() => {
      throw new Error('boom from the app');
    });
    return res.end('ok');
  }
  res.end();
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
