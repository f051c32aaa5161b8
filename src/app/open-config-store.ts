import type { AllotConfig } from '../config/config.js';
import type { ConfigStore } from '../core/ports/config-store.js';

/** Opens the config store the configuration names; PostgreSQL's client loads only when used. */
export async function openConfigStore(config: AllotConfig): Promise<ConfigStore> {
  if (config.configDb.kind === 'postgres') {
    const { createPostgresConfigStore } = await import('../adapters/postgres/postgres-config-store.js');
    return createPostgresConfigStore({ url: config.configDb.url, schema: config.configDb.schema });
  }
  const { createSqliteConfigStore } = await import('../adapters/sqlite/sqlite-config-store.js');
  return createSqliteConfigStore({ path: config.configDb.path });
}
