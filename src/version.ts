/** Kept in step with package.json by the build (scripts/copy-esm.js checks it). */
export const VERSION = '0.1.0';
