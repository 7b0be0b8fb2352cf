#!/usr/bin/env node
// npm run bench: overhead of tripline on a real Express app, side by side with no agent and with
// OpenTelemetry's own auto-instrumentation, in alternating rounds so machine drift cancels; then the
// hot-path micro benchmarks. Prints tables and writes bench/results/latest.json.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const os = require('node:os');

const ROOT = join(__dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
// TRIPLINE_DIST lets a private build (scripts/build-to.sh) be measured without touching dist/.
const DIST = process.env.TRIPLINE_DIST ? join(ROOT, process.env.TRIPLINE_DIST) : join(ROOT, 'dist');
const REGISTER = join(DIST, 'register.js');
const AUTO = join(__dirname, 'otel-auto', 'node_modules', '@opentelemetry', 'auto-instrumentations-node', 'build', 'src', 'register.js');

function ensureAuto() {
  if (existsSync(AUTO)) return true;
  process.stdout.write('installing @opentelemetry/auto-instrumentations-node into bench/otel-auto (once)...\n');
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: join(__dirname, 'otel-auto'), stdio: 'inherit' });
  return r.status === 0 && existsSync(AUTO);
}

function start(args, env) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`did not start within 20 s: ${out}`));
    }, 20000);
    const on = (c) => {
      out += c;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ p, port: Number(m[1]) });
      }
    };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

/** SIGTERM, then SIGKILL after 5 s: OTel's auto-instrumentation register.js takes SIGTERM over to shut its
 * SDK down and does not exit afterwards, leaving an app that had no handler of its own running. */
function stop(p) {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const hz = 100;
    const cpu = (Number(stat[11]) + Number(stat[12])) / hz;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    return { cpu, hwmMb: hwm };
  } catch {
    return { cpu: NaN, hwmMb: NaN };
  }
}

function load(port, route, seconds = DURATION, rate = undefined) {
  const args = [join(ROOT, 'node_modules', 'autocannon', 'autocannon.js'), '-j', '-c', String(CONNECTIONS), '-d', String(seconds)];
  if (rate !== undefined) args.push('-R', String(rate));
  if (route.method === 'POST') args.push('-m', 'POST', '-H', 'content-type=application/json', '-b', JSON.stringify(route.body));
  args.push(`http://127.0.0.1:${port}${route.path}`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const j = JSON.parse(r.stdout);
  return { rps: j.requests.average, p50: j.latency.p50, p99: j.latency.p99, errors: j.errors + j.non2xx, total: j.requests.total };
}

// rate: the fixed request rate (well under every variant's saturation) at which CPU per request is read
const ROUTES = [
  { name: 'login (bcrypt + PostgreSQL)', path: '/login', method: 'POST', body: { username: 'bench', password: 'bench-password' }, rate: 200 },
  { name: 'static', path: '/static', method: 'GET', rate: 1000 },
  { name: 'JSON API', path: '/api/items', method: 'GET', rate: 1000 },
];
const FIXED_SECONDS = Number(process.env.BENCH_FIXED_DURATION ?? 2);

async function main() {
  spawnSync('bash', [join(ROOT, 'scripts', 'ensure-services.sh')], { stdio: 'inherit' });
  const haveAuto = ensureAuto();
  const sink = await start([join(__dirname, 'receiver.js')], process.env);
  const endpoint = `http://127.0.0.1:${sink.port}`;
  const base = { ...process.env, PORT: '0', OTEL_SERVICE_NAME: 'bench-app' };
  for (const k of Object.keys(base)) if ((k.startsWith('TRIPLINE_') && k !== 'TRIPLINE_DIST') || (k.startsWith('OTEL_') && k !== 'OTEL_SERVICE_NAME')) delete base[k];
  const variants = [
    { name: 'no agent', args: [] , env: {} },
    { name: 'tripline (defaults)', args: ['--require', REGISTER], env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } },
    { name: 'tripline (access log: all)', args: ['--require', REGISTER], env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, TRIPLINE_HTTP_ACCESS_LOG: 'all' } },
  ];
  if (haveAuto) variants.push({ name: 'OTel auto-instrumentations', args: ['--require', AUTO], env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'otlp', OTEL_LOGS_EXPORTER: 'otlp', OTEL_METRICS_EXPORTER: 'none', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      // the default detector list includes the cloud ones (AWS, GCP, Azure), which wait on metadata
      // endpoints that a closed network never answers; tripline reads env/host/process only, so compare alike
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,process' } });

  const results = {}; // variant -> route -> [{rps,p50,p99}]
  const res = {}; // variant -> {cpuPerReq, hwm}
  const fixed = {}; // variant -> route -> [{usPerReq, p99}] at the route's fixed rate
  for (let round = 1; round <= ROUNDS; round++) {
    for (const v of round % 2 === 1 ? variants : [...variants].reverse()) {
      const app = await start([...v.args, join(__dirname, 'app', 'server.js')], { ...base, ...v.env });
      const before = procStats(app.p.pid);
      let requests = 0;
      for (const route of ROUTES) {
        load(app.port, route, 1); // warm-up (JIT, pools), discarded
        const r = load(app.port, route);
        requests += r.total;
        ((results[v.name] ??= {})[route.name] ??= []).push(r);
      }
      const after = procStats(app.p.pid);
      // CPU per request at a fixed rate: the agent's cost without the load generator competing for cores
      for (const route of ROUTES) {
        const b = procStats(app.p.pid);
        const f = load(app.port, route, FIXED_SECONDS, route.rate);
        const a = procStats(app.p.pid);
        ((fixed[v.name] ??= {})[route.name] ??= []).push({ usPerReq: ((a.cpu - b.cpu) * 1e6) / Math.max(1, f.total), p99: f.p99 });
      }
      (res[v.name] ??= []).push({ cpuMsPerKReq: ((after.cpu - before.cpu) * 1e6) / Math.max(1, requests), hwmMb: after.hwmMb });
      await stop(app.p);
      process.stdout.write(`round ${round}/${ROUNDS} ${v.name} done\n`);
    }
  }
  await stop(sink.p);

  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [];
  for (const route of ROUTES) {
    const b = results['no agent'][route.name];
    const bRps = med(b.map((x) => x.rps));
    const bP99 = med(b.map((x) => x.p99));
    for (const v of variants) {
      const xs = results[v.name][route.name];
      const rps = med(xs.map((x) => x.rps));
      const p50 = med(xs.map((x) => x.p50));
      const p99 = med(xs.map((x) => x.p99));
      rows.push({ route: route.name, variant: v.name, rps: Math.round(rps), p50, p99, throughput: v.name === 'no agent' ? '—' : `${(((rps - bRps) / bRps) * 100).toFixed(1)}%`, addedP99: v.name === 'no agent' ? '—' : `${(p99 - bP99).toFixed(2)} ms`, errors: xs.reduce((a, x) => a + x.errors, 0) });
    }
  }
  const fixedRows = [];
  for (const route of ROUTES) {
    const b = med(fixed['no agent'][route.name].map((x) => x.usPerReq));
    for (const v of variants) {
      const xs = fixed[v.name][route.name];
      const us = med(xs.map((x) => x.usPerReq));
      fixedRows.push({ route: route.name, rate: route.rate, variant: v.name, cpuUsPerReq: Math.round(us), addedUs: v.name === 'no agent' ? '—' : `+${Math.round(us - b)} µs (+${(((us - b) / b) * 100).toFixed(0)}%)`, p99: med(xs.map((x) => x.p99)) });
    }
  }
  const resRows = variants.map((v) => ({ variant: v.name, cpuMsPer1kReq: med(res[v.name].map((x) => x.cpuMsPerKReq)).toFixed(1), peakRssMb: med(res[v.name].map((x) => x.hwmMb)).toFixed(1) }));

  // micro benchmarks in their own process: --expose-gc and a young generation large enough that no
  // scavenge runs inside an allocation sample, so heap growth per operation is the bytes it allocated
  const m = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=64', join(__dirname, 'micro.js'), '--json'], { encoding: 'utf8', env: process.env, maxBuffer: 16 * 1024 * 1024 });
  if (m.status !== 0) throw new Error(`micro benchmarks failed: ${m.stderr}`);
  const micro = JSON.parse(m.stdout);

  const machine = { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGb: (os.totalmem() / 2 ** 30).toFixed(1), node: process.version, date: new Date().toISOString() };
  const md = [];
  md.push(`| route | variant | req/s | p50 ms | p99 ms | throughput vs no agent | added p99 | errors |`, `|---|---|---|---|---|---|---|---|`);
  for (const r of rows) md.push(`| ${r.route} | ${r.variant} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.throughput} | ${r.addedP99} | ${r.errors} |`);
  md.push('', `| route (fixed rate) | variant | app CPU µs per request | added | p99 ms |`, `|---|---|---|---|---|`);
  for (const r of fixedRows) md.push(`| ${r.route} @ ${r.rate}/s | ${r.variant} | ${r.cpuUsPerReq} | ${r.addedUs} | ${r.p99} |`);
  md.push('', `| variant | CPU ms per 1000 requests (saturated runs) | peak RSS MB |`, `|---|---|---|`);
  for (const r of resRows) md.push(`| ${r.variant} | ${r.cpuMsPer1kReq} | ${r.peakRssMb} |`);
  md.push('', `| micro benchmark | ns/op | ops/s | bytes allocated/op |`, `|---|---|---|---|`);
  for (const m of micro) md.push(`| ${m.name} | ${m.nsPerOp.toFixed(0)} | ${Math.round(m.opsPerSec)} | ${m.bytesPerOp === undefined ? '—' : Math.round(m.bytesPerOp)} |`);
  const text = md.join('\n');
  process.stdout.write(`\nmachine: ${machine.cpus} cores ${machine.model}, ${machine.memGb} GiB, Node ${machine.node}, ${machine.date}\nrounds ${ROUNDS} × ${DURATION}s × ${CONNECTIONS} connections (medians)\n\n${text}\n`);
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(join(__dirname, 'results', 'latest.json'), JSON.stringify({ machine, settings: { ROUNDS, DURATION, CONNECTIONS }, rows, fixed: fixedRows, resources: resRows, micro }, null, 2));
  writeFileSync(join(__dirname, 'results', 'latest.md'), `machine: ${machine.cpus} cores ${machine.model}, ${machine.memGb} GiB, Node ${machine.node}, ${machine.date}\n\n${text}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
