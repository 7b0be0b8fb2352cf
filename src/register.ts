/**
 * Preload entry: `node --require tripline/register app.js`.
 * Starts the agent before the app loads anything. Never throws into the app unless TRIPLINE_STRICT
 * asks it to refuse a bad configuration.
 */
import { start } from './agent';
import { ConfigError } from './config';

try {
  start();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\ntripline: TRIPLINE_STRICT=true, refusing to start.\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`tripline: failed to start, the app runs without it: ${err instanceof Error ? err.message : String(err)}\n`);
}
