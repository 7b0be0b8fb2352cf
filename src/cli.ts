#!/usr/bin/env node
import { Command } from 'commander';
import { SPECS, loadConfig } from './config';
import { VERSION } from './version';

const program = new Command();
program
  .name('tripline')
  .description('Security logging for Node.js over OpenTelemetry.\n\nRun an app under the agent:  node --require tripline/register app.js')
  .version(VERSION);

program
  .command('demo')
  .description('run the example app under the agent, play a scripted attack and show what was recorded')
  .action(async () => {
    const { runDemo } = await import('./demo/index');
    process.exitCode = await runDemo();
  });

program
  .command('verify')
  .description('check the tamper-evident chain of exported records (OTLP JSON lines as the collector file exporter writes them, or a JSON array)')
  .argument('<file>', 'the exported file')
  .option('--key <key>', 'the integrity key (default: TRIPLINE_INTEGRITY_KEY)')
  .option('--key-file <path>', 'a file holding the integrity key (default: TRIPLINE_INTEGRITY_KEY_FILE)')
  .option('--public-key <path>', 'PEM Ed25519 public key to check checkpoint signatures')
  .option('--json', 'print the report as JSON')
  .action(async (file: string, opts: { key?: string; keyFile?: string; publicKey?: string; json?: boolean }) => {
    const { readFileSync } = await import('node:fs');
    const { readOtlpFile, verifyRecords, formatReport } = await import('./integrity/verify');
    const keyText = opts.key ?? (opts.keyFile !== undefined ? readFileSync(opts.keyFile, 'utf8').trim() : undefined) ?? process.env.TRIPLINE_INTEGRITY_KEY ?? (process.env.TRIPLINE_INTEGRITY_KEY_FILE !== undefined ? readFileSync(process.env.TRIPLINE_INTEGRITY_KEY_FILE, 'utf8').trim() : undefined);
    if (keyText === undefined || keyText === '') {
      process.stderr.write('tripline verify: no key: pass --key, --key-file, or set TRIPLINE_INTEGRITY_KEY\n');
      process.exitCode = 2;
      return;
    }
    const report = verifyRecords(readOtlpFile(file), Buffer.from(keyText, 'utf8'), opts.publicKey !== undefined ? readFileSync(opts.publicKey, 'utf8') : undefined);
    process.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    process.exitCode = report.ok ? 0 : 1;
  });

program
  .command('doctor')
  .description('check the configuration in the environment and print what the agent would use')
  .option('--json', 'print as JSON')
  .action((opts: { json?: boolean }) => {
    const { config, problems } = loadConfig(process.env);
    if (opts.json === true) {
      process.stdout.write(`${JSON.stringify({ config: { ...config, hashKey: config.hashKey && '<set>', integrityKey: config.integrityKey && '<set>' }, problems }, null, 2)}\n`);
    } else {
      for (const p of problems) process.stdout.write(`${p}\n`);
      for (const s of SPECS) {
        const v = config[s.key];
        const shown = /KEY/.test(s.env) && v !== undefined ? '<set>' : JSON.stringify(v);
        process.stdout.write(`${s.env.padEnd(34)} ${shown ?? 'unset'}\n`);
      }
      process.stdout.write(problems.length === 0 ? 'configuration OK\n' : `${problems.length} problem(s)\n`);
    }
    process.exitCode = problems.length === 0 ? 0 : 1;
  });

program
  .command('env')
  .description('list every TRIPLINE_* variable with its default and accepted values')
  .action(() => {
    for (const s of SPECS) {
      process.stdout.write(`${s.env}\n  default: ${JSON.stringify(s.default) ?? 'unset'}\n  accepts: ${s.accepts}\n  ${s.doc}\n\n`);
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`tripline: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
