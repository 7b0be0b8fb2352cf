// A plain node:http server (no framework). Routes:
//   /ok 200, /denied 403, /slow (answers after 1.5 s), /throw (the handler throws: node crashes, as designed)
'use strict';
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.url === '/ok') return res.end('ok');
  if (req.url === '/denied') {
    res.statusCode = 403;
    return res.end('no');
  }
  if (req.url === '/slow') {
    setTimeout(() => {
      if (!res.destroyed) res.end('late');
    }, 1500);
    return;
  }
  if (req.url === '/throw') throw new Error('plain handler failed');
  res.statusCode = 404;
  res.end();
});
if (process.env.APP_SIGTERM_HANDLER === '1') {
  process.on('SIGTERM', () => {
    console.log('app handled SIGTERM');
    server.close(() => process.exit(7));
  });
}
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
