// The dashboard's routes, read from the location hash (#/, #/placements/:id, #/ads).
import { useEffect, useState } from 'preact/hooks';

export type Route = { page: 'overview' } | { page: 'placement'; id: string } | { page: 'ads' };

export function parseRoute(hash: string): Route {
  const m = /^#\/placements\/([^/]+)$/.exec(hash);
  if (m?.[1] !== undefined) return { page: 'placement', id: decodeURIComponent(m[1]) };
  if (hash === '#/ads') return { page: 'ads' };
  return { page: 'overview' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
