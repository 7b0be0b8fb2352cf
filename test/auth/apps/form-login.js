// A server-rendered style login with no framework and no body parser: POST /signin (form body) redirects
// to /dashboard on success and back to /signin?error=1 on failure.
'use strict';
const http = require('node:http');
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/signin') {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const f = new URLSearchParams(body);
      const ok = f.get('email') === 'frank@example.com' && f.get('pass') === 'open sesame';
      res.writeHead(302, { location: ok ? '/dashboard' : '/signin?error=1' }).end();
    });
    return;
  }
  res.end('page');
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
