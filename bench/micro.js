// Micro benchmarks of tripline's hot paths (tinybench): per-operation time and approximate bytes
// allocated per operation (heap growth over a GC-free burst; indicative, not exact).
'use strict';
const { Bench } = require('tinybench');
const { join } = require('node:path');
const DIST = process.env.TRIPLINE_DIST ? join(__dirname, '..', process.env.TRIPLINE_DIST) : join(__dirname, '..', 'dist');
const { Redactor } = require(join(DIST, 'redaction', 'engine.js'));
const { RedactionProcessor } = require(join(DIST, 'redaction', 'processor.js'));
const { BUILTIN_PATTERNS } = require(join(DIST, 'redaction', 'patterns.js'));
const { analyzeSql, inputBreakout } = require(join(DIST, 'sql', 'analyze.js'));
const { loadConfig } = require(join(DIST, 'config.js'));
const { LoggerProvider } = require('@opentelemetry/sdk-logs');
const { ProtobufLogsSerializer, JsonLogsSerializer } = require('@opentelemetry/otlp-transformer');
const pinoRedact = require('@pinojs/redact');

const config = loadConfig({}).config;

/** A typical access record: 15 attributes, all clean. */
function typicalAttrs() {
  return {
    'event.name': 'http.server.request',
    'security.event.category': 'http',
    'http.request.method': 'GET',
    'http.route': '/api/orders/:id',
    'url.path': '/api/orders/12345',
    'url.query': 'page=2&sort=created_at',
    'http.response.status_code': 200,
    'client.address': '203.0.113.7',
    'user_agent.original': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
    'server.address': 'shop.example.com',
    'server.port': 443,
    'url.scheme': 'https',
    'http.server.request.duration_ms': 3.25,
    'user.id': '42',
    'user.name': 'alice',
  };
}

class FakeRecord {
  constructor(attrs, body) {
    this.attributes = attrs;
    this.body = body;
  }
  setAttribute(k, v) {
    this.attributes[k] = v;
    return this;
  }
  setBody(b) {
    this.body = b;
    return this;
  }
}

async function runMicro() {
  const redactor = new Redactor(config);
  const processor = new RedactionProcessor(config);
  const naivePatterns = BUILTIN_PATTERNS.map((p) => new RegExp(p.re.source, p.re.flags));
  const pino = pinoRedact({ paths: ['password', 'token', 'authorization', 'cookie', 'api_key', 'secret', 'headers.authorization', 'headers.cookie'], censor: '[REDACTED]' });
  const withSecret = { ...typicalAttrs(), 'url.query': 'page=2&access_token=ghp_R8fT2kLq9ZxW4mN7vB1cH5jD3sA6gY0pE2uI', 'error.message': 'connect postgres://app:Xy7-Qw3rT-p4ss@db/prod failed' };
  const sql = "SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.email = 'ann@example.com' AND o.status IN ('paid', 'shipped') ORDER BY o.created_at DESC LIMIT 20";
  const analyzed = analyzeSql(sql, 'postgresql');

  // record construction: emit through a LoggerProvider with tripline's redaction and a no-op sink
  const sink = { onEmit() {}, forceFlush: async () => {}, shutdown: async () => {} };
  const provider = new LoggerProvider({ processors: [new RedactionProcessor(config), sink] });
  const logger = provider.getLogger('bench');
  const captured = [];
  const capProvider = new LoggerProvider({ processors: [{ onEmit: (r) => captured.length < 512 && captured.push(r), forceFlush: async () => {}, shutdown: async () => {} }] });
  const capLogger = capProvider.getLogger('tripline', '0.1.0');
  for (let i = 0; i < 512; i++) capLogger.emit({ eventName: 'http.server.request', severityNumber: 9, severityText: 'INFO', body: 'GET /api/orders/:id 200', attributes: typicalAttrs() });

  let uniq = 0;
  const bench = new Bench({ time: 400, warmupTime: 100 });
  const fns = new Map(); // name -> function, for the allocation samples below
  const add = bench.add.bind(bench);
  bench.add = (name, fn, opts) => {
    fns.set(name, fn);
    return add(name, fn, opts);
  };
  bench
    .add('redaction: typical 15-attribute record (processor)', () => processor.onEmit(new FakeRecord(typicalAttrs(), 'GET /api/orders/:id 200')))
    .add('redaction: typical record, every value new (no memo hits)', () => {
      const a = typicalAttrs();
      const n = (uniq = (uniq + 1) % 1e9);
      a['url.path'] = `/api/orders/${n}`;
      a['user_agent.original'] = `Mozilla/5.0 (X11; Linux x86_64) Chrome/${n}.0 Safari/537.36`;
      a['url.query'] = `page=${n}&sort=created_at`;
      processor.onEmit(new FakeRecord(a, `GET /api/orders/${n} 200`));
    })
    .add('redaction: record with 2 secrets (processor)', () => processor.onEmit(new FakeRecord({ ...withSecret }, 'login failed')))
    .add('baseline: every regex on every value (typical record)', () => {
      const a = typicalAttrs();
      for (const k in a) {
        const v = a[k];
        if (typeof v !== 'string') continue;
        let s = v;
        for (const re of naivePatterns) {
          re.lastIndex = 0;
          s = s.replace(re, '[REDACTED]');
        }
        a[k] = s;
      }
    })
    .add('baseline: @pinojs/redact key paths only (typical record)', () => pino(typicalAttrs()))
    .add('tripline key rules only (typical record)', () => {
      const a = typicalAttrs();
      for (const k in a) redactor.isSensitiveAttribute(k);
    })
    .add('SQL: analyze + strip literals (cold, 180-char query)', () => analyzeSql(sql, 'postgresql'))
    .add('SQL: input breakout check (3 inputs)', () => inputBreakout(sql, analyzed.tokens, ['ann@example.com', 'paid', "x' OR '1'='1"]))
    .add('record construction: logger.emit with redaction', () => logger.emit({ eventName: 'http.server.request', severityNumber: 9, severityText: 'INFO', body: 'GET /api/orders/:id 200', attributes: typicalAttrs() }))
    .add('export serialization: 512 records to OTLP protobuf', () => ProtobufLogsSerializer.serializeRequest(captured))
    .add('export serialization: 512 records to OTLP JSON', () => JsonLogsSerializer.serializeRequest(captured));
  await bench.run();

  const out = [];
  for (const task of bench.tasks) {
    const r = task.result;
    const mean = r?.latency?.mean ?? r?.mean; // ms
    const bytes = allocPerOp(fns.get(task.name), mean);
    out.push({ name: task.name, nsPerOp: mean * 1e6, opsPerSec: 1000 / mean, bytesPerOp: bytes });
  }
  return out;
}

function allocPerOp(fn, meanMs) {
  if (typeof fn !== 'function' || !global.gc) return undefined;
  // about 20 ms of work per sample: well inside one young-generation fill at --max-semi-space-size=64
  const n = Math.max(5, Math.min(1000, Math.round(20 / meanMs)));
  for (let i = 0; i < 50; i++) fn(); // warm (inline caches, memo tables) before sampling
  if (global.gc) global.gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) fn();
  const after = process.memoryUsage().heapUsed;
  return Math.max(0, (after - before) / n);
}

module.exports = { runMicro };

if (require.main === module) {
  runMicro().then((rows) => {
    if (process.argv.includes('--json')) {
      process.stdout.write(JSON.stringify(rows));
      return;
    }
    for (const r of rows) console.log(`${r.name.padEnd(60)} ${r.nsPerOp.toFixed(0).padStart(9)} ns/op ${String(Math.round(r.opsPerSec)).padStart(9)} ops/s ${r.bytesPerOp === undefined ? '' : `${Math.round(r.bytesPerOp)} B/op`}`);
  });
}
