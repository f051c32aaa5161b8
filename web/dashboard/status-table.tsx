// A placement's live status per ad: target, realized share with its 95 % interval, impressions, state.
import type { Status } from './api.js';
import { Badge } from './badge.js';
import { colorFor } from './charts.js';
import { adDelivery, pct } from './model.js';

function ShareBar({ share, target, lo, hi }: { share: number; target: number; lo: number; hi: number }) {
  return (
    <div class="bar" title={`realized ${pct(share)} (95 %: ${pct(lo)}–${pct(hi)}), target ${pct(target)}`}>
      <div class="bar-ci" style={{ left: `${lo * 100}%`, width: `${Math.max(0, hi - lo) * 100}%` }} />
      <div class="bar-fill" style={{ width: `${share * 100}%` }} />
      <div class="bar-target" style={{ left: `${target * 100}%` }} />
    </div>
  );
}

export function StatusTable({ status, swatches = false }: { status: Status; swatches?: boolean }) {
  return (
    <div class="scroll">
      <table class="status">
        <thead>
          <tr>
            <th>Ad</th>
            <th>Target</th>
            <th>Realized (95 %)</th>
            <th class="wide">Share</th>
            <th>Impr.</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {status.ads.map((a) => (
            <tr key={a.adId} data-ad={a.adId}>
              <td>
                {swatches && <span class="swatch" style={{ background: colorFor(a.adId) }} />}
                {a.adId}
                {a.role !== 'target' && <span class="role"> ({a.role})</span>}
              </td>
              <td class="num">{pct(a.targetShare)}</td>
              <td class="num">
                {pct(a.share)}
                <span class="ci">
                  {pct(a.ci95[0])}–{pct(a.ci95[1])}
                </span>
              </td>
              <td class="wide">
                <ShareBar share={a.share} target={a.targetShare} lo={a.ci95[0]} hi={a.ci95[1]} />
              </td>
              <td class="num">{Math.round(a.impressions)}</td>
              <td>
                <Badge state={adDelivery(a, status.totalImpressions)} />
                {a.reasons.length > 0 && <span class="reasons"> {a.reasons.join(', ')}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
