import { type AllotConfig, type ConfigError, loadConfig } from '../../src/config/config.js';

/** The configuration from `env` on top of a data dir, as `allot start` would load it. */
export const loadTestConfig = (env: Record<string, string>): AllotConfig =>
  loadConfig({ ALLOT_DATA_DIR: '/data', ...env }, '/cwd');

/** The problems `loadConfig` reports for `env` ([] when it loads). */
export function configProblems(env: Record<string, string>): string[] {
  try {
    loadTestConfig(env);
    return [];
  } catch (e) {
    return (e as ConfigError).problems;
  }
}
