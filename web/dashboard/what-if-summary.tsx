// The what-if check's verdict on a target set, and what it was judged on.
import type { WhatIf } from './api.js';

export function WhatIfSummary({ whatIf }: { whatIf: WhatIf }) {
  return (
    <p class="whatif" id="whatif">
      What-if:{' '}
      {whatIf.feasible === null
        ? 'no traffic yet to judge by'
        : whatIf.feasible
          ? 'feasible'
          : 'not feasible'}{' '}
      ({whatIf.basis.sampledRequests} sampled requests
      {whatIf.basis.frequencyCapsModelled ? '' : ', frequency caps not modelled'}).
    </p>
  );
}
