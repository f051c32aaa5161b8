// The manager API as the dashboard uses it: bearer token from sessionStorage, one error shape.

const TOKEN_KEY = 'allot.adminToken';

export const getToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const clearToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

export interface Problem {
  path: string;
  message: string;
}

/** An API error: `{ error: { code, message, problems } }`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
  }
}

/** Called when the token is refused, so the app can ask for it again. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (fn: () => void): void => {
  onUnauthorized = fn;
};

export async function api<T>(method: string, path: string, body?: unknown, token = getToken()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', `network error: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; problems?: Problem[] } } | undefined)
      ?.error;
    if (res.status === 401) onUnauthorized();
    throw new ApiError(
      res.status,
      err?.code ?? `HTTP_${res.status}`,
      err?.message ?? `${res.status} ${res.statusText}`,
      err?.problems ?? [],
    );
  }
  return json as T;
}

export interface Ad {
  id: string;
  name: string;
  status: 'active' | 'paused';
  creative: {
    type: 'image' | 'html';
    url?: string;
    html?: string;
    alt?: string;
    width?: number;
    height?: number;
  };
  clickUrl: string;
  targeting: unknown;
  frequencyCap: { impressions: number; windowSeconds: number } | null;
  startAt: string | null;
  endAt: string | null;
}

export interface Placement {
  id: string;
  name: string;
  fallbackAdId: string | null;
  window: { lengthHours: number; timeZone: string };
  updatedAt: string;
}

export interface Target {
  adId: string;
  share: number;
}

export interface TargetSet {
  placementId: string;
  version: number;
  targets: Target[];
  updatedAt: string;
}

export type Reason = 'paused' | 'notInFlight' | 'missing' | 'targeting' | 'frequencyCap' | 'overbooked';

export interface StatusAd {
  adId: string;
  role: 'target' | 'fallback' | 'target+fallback';
  targetShare: number;
  impressions: number;
  decisions: number;
  clicks: number;
  share: number;
  ci95: [number, number];
  estimated: boolean;
  achievableShare: number | null;
  feasible: boolean;
  reasons: Reason[];
}

export interface Status {
  placementId: string;
  targetsVersion: number;
  window: { start: string; end: string };
  asOf: string;
  totalImpressions: number;
  feasible: boolean;
  ads: StatusAd[];
}

export interface WhatIf {
  placementId: string;
  feasible: boolean | null;
  basis: { sampledRequests: number; frequencyCapsModelled: boolean };
  ads: Array<{
    adId: string;
    role: string;
    targetShare: number;
    achievableShare: number | null;
    reasons: Reason[];
  }>;
}

export interface ReportRow {
  placementId: string;
  adId: string;
  period: string;
  impressions: number;
  share: number | null;
  targetShare: number | null;
}

export interface Report {
  from: string;
  to: string;
  rows: ReportRow[];
}
