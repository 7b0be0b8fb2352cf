/**
 * Preload entry: `node --require tripline/register app.js`.
 * Starts the agent before the app loads anything. Never throws into the app unless TRIPLINE_STRICT
 * asks it to refuse a bad configuration.
 */
import { start } from './agent';
import { ConfigError } from './config';

/**
 * NODE_OPTIONS reaches every node process, including the package manager that launches the app
 * (`NODE_OPTIONS=... npm start`, `npx server`): those are not the app and get no agent of their own
 * (otherwise each start would be recorded twice and every configuration warning printed twice).
 */
function isPackageManager(mainScript: string | undefined): boolean {
  return mainScript !== undefined && /[\\/](?:npm|npx|yarn|pnpm|pnpx|corepack)(?:-cli)?(?:\.c?js|\.mjs)?$/.test(mainScript);
}

try {
  if (!isPackageManager(process.argv[1])) start();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\ntripline: TRIPLINE_STRICT=true, refusing to start.\n`);
    process.exit(78); // EX_CONFIG
  }
  process.stderr.write(`tripline: failed to start, the app runs without it: ${err instanceof Error ? err.message : String(err)}\n`);
}
