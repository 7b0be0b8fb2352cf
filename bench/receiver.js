// A separate process standing in for the collector: accepts OTLP/HTTP logs, traces and metrics,
// answers 200 and counts requests and bytes (no decoding, so it competes little for CPU).
'use strict';
const http = require('node:http');
let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (c) => (bytes += c.length));
  req.on('end', () => {
    requests++;
    if (req.url === '/stats') return res.end(JSON.stringify({ requests, bytes }));
    const json = String(req.headers['content-type'] ?? '').includes('json');
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
