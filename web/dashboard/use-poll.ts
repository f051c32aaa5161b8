// Polling an API read while a component is mounted.
import { useEffect, useState } from 'preact/hooks';
import { message } from './message.js';

/** Calls `load` now and every `everyMs` (if given) while mounted; the latest result or error. */
export function usePoll<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  // `deps` lists what `load` reads.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const v = await load();
        if (!live) return;
        setData(v);
        setError(null);
      } catch (e) {
        if (live) setError(message(e));
      }
      if (live && everyMs !== undefined) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
