import { spawn, type ChildProcess } from 'node:child_process';

export interface AppProcess {
  proc: ChildProcess;
  port: number;
  output: () => string;
  /** Send a signal and wait for exit; SIGKILL after timeoutMs. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start a Node app as a child process (e.g. with --require tripline/register) and wait until it prints
 * "listening on http://host:PORT".
 */
export function startApp(args: readonly string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<AppProcess> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...args], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      proc.kill('SIGKILL');
      reject(new Error(`app did not start within ${opts.timeoutMs ?? 15000} ms:\n${out}`));
    }, opts.timeoutMs ?? 15000);
    const onData = (c: Buffer): void => {
      out += c.toString();
      const m = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m !== null && !done) {
        done = true;
        clearTimeout(timer);
        resolve({
          proc,
          port: Number(m[1]),
          output: () => out,
          stop: async (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10000) => {
            if (proc.exitCode === null && proc.signalCode === null) {
              proc.kill(signal);
              const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
              const r = await exited;
              clearTimeout(t);
              return r;
            }
            return exited;
          },
        });
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`app exited (${code}) before listening:\n${out}`));
    });
  });
}
