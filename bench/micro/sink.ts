/** Results of the cases go here so that the compiler cannot drop the work; `micro.ts` reads it at the end. */
export const sink = { value: 0 };
