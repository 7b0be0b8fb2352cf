// ESM preload entry: `node --import tripline/register app.mjs`.
// Registers the import-in-the-middle loader hooks first, so that ESM imports of http, express, pg, ...
// are patched too, then starts the agent (the CommonJS build) in this thread.
import * as nodeModule from 'node:module';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let registered = false;
try {
  const sync = await import('import-in-the-middle/register-hooks.mjs').catch(() => undefined);
  if (sync && typeof nodeModule.registerHooks === 'function' && sync.supportsSyncHooks()) {
    sync.register();
    registered = true;
  }
} catch {
  registered = false;
}
if (!registered && typeof nodeModule.register === 'function') {
  try {
    nodeModule.register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  } catch (err) {
    process.stderr.write(`tripline: could not register ESM hooks, ESM imports will not be instrumented: ${err?.message ?? err}\n`);
  }
}

require('./register.js');
