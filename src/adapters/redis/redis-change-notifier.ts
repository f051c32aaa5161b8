import { duplicateConnection, type RedisConnection } from './redis-client.js';
import { redisKeys } from './redis-keys.js';

/** Tells every process of a fleet that the configuration changed (Redis pub/sub). */
export interface ChangeNotifier {
  /** Fire and forget: a lost announcement is caught up by the plan source's poll. */
  announce(): void;
  /** Calls `onChange` for every announcement of any process; resolves once listening. */
  listen(onChange: () => void): Promise<() => Promise<void>>;
}

/**
 * Config change announcements over Redis pub/sub: the manager announces after each write, and
 * decision servers reload their plan at once instead of at their next PostgreSQL poll. One
 * PUBLISH per change; listening costs no command.
 */
export function createRedisChangeNotifier(opts: {
  client: RedisConnection;
  prefix: string;
  onError?: (err: unknown) => void;
}): ChangeNotifier {
  const channel = redisKeys(opts.prefix).configChannel();
  const onError = opts.onError ?? (() => undefined);
  return {
    announce() {
      opts.client.publish(channel, String(Date.now())).catch(onError);
    },
    async listen(onChange) {
      const subscriber = await duplicateConnection(opts.client, { onError });
      await subscriber.subscribe(channel, () => onChange());
      return async () => {
        await subscriber.close().catch(() => subscriber.destroy());
      };
    },
  };
}
