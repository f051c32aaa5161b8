// The text of a caught error, for notices.

export const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
