/**
 * tripline: security logging for Node.js over OpenTelemetry.
 *
 *   node --require tripline/register app.js      (CommonJS)
 *   node --import tripline/register app.mjs      (ESM)
 *
 * or programmatically: `import { start, shutdown, events, setUser } from 'tripline'`.
 */
export { start, shutdown, getAgent, type Agent, type StartOptions } from './agent';
export { events, setUser, type Attributes, type AttributeValue, type LoginInfo, type LoginFailInfo, type AccessDeniedInfo, type PrivilegeChangeInfo, type AccountInfo, type AdminActionInfo } from './events/api';
export type { UserInput, UserInfo } from './context/user';
export { loadConfig, ConfigError, SPECS, type TriplineConfig } from './config';
export { VERSION } from './version';
