import { type Static, Type } from '@sinclair/typebox';
import type { RequestContext } from '../core/targeting/targeting-rule.js';

export const DecisionRequestSchema = Type.Object(
  {
    placementId: Type.String({ minLength: 1, maxLength: 64 }),
    userId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 256, description: 'Needed for frequency-capped ads.' }),
    ),
    context: Type.Optional(
      Type.Unsafe<RequestContext>({
        type: 'object',
        maxProperties: 64,
        propertyNames: { maxLength: 64 },
        additionalProperties: { type: ['string', 'number', 'boolean'], maxLength: 256 },
        description: 'Targeting context: string, number or boolean values.',
      }),
    ),
  },
  { additionalProperties: false, title: 'DecisionRequest' },
);
export type DecisionRequestBody = Static<typeof DecisionRequestSchema>;

export const DecisionResponseSchema = Type.Object(
  {
    decisionId: Type.String(),
    placementId: Type.String(),
    ad: Type.Object({ id: Type.String(), creative: Type.Ref('Creative') }),
    impressionUrl: Type.String({
      description: 'Fire (GET) when the ad is shown. Relative unless ALLOT_PUBLIC_URL is set.',
    }),
    clickUrl: Type.String({ description: 'Send the user here on click; redirects to the ad’s clickUrl.' }),
  },
  { title: 'Decision' },
);
