/**
 * The selection strategies the simulator compares on the same traffic: Allot (smooth weighted
 * round-robin steered by the allocation controller), the same round-robin on the target shares
 * without feedback, and the weighted lottery of Revive and Kevel (`lottery-select.ts`).
 */
export const STRATEGIES = ['allot', 'smooth', 'lottery'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export const STRATEGY_LABELS: Record<Strategy, string> = {
  allot: 'Allot (smooth RR + controller)',
  smooth: 'Smooth RR, no feedback',
  lottery: 'Weighted lottery',
};
