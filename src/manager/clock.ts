/** Injected time and id sources, so services and tests stay deterministic. */
export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };
