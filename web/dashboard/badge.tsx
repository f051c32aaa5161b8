// A delivery state's badge.
import type { Delivery } from './model.js';

export function Badge({ state }: { state: Delivery }) {
  return <span class={`badge badge-${state.replace(' ', '-')}`}>{state}</span>;
}
