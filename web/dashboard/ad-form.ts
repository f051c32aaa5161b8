// The ad editor's form values, from an ad and to the body the API takes.
import type { Ad } from './api.js';
import { isoOf, localOf, numberOf } from './forms.js';

/** The fields of an ad, as JSON pointers, that its problems are shown under. */
export const AD_FIELDS = [
  '/id',
  '/name',
  '/status',
  '/clickUrl',
  '/creative',
  '/creative/type',
  '/creative/url',
  '/creative/width',
  '/creative/height',
  '/creative/alt',
  '/creative/html',
  '/targeting',
  '/frequencyCap',
  '/frequencyCap/impressions',
  '/frequencyCap/windowSeconds',
  '/startAt',
  '/endAt',
];

export interface AdForm {
  id: string;
  name: string;
  status: 'active' | 'paused';
  clickUrl: string;
  type: 'image' | 'html';
  url: string;
  html: string;
  width: string;
  height: string;
  alt: string;
  startAt: string;
  endAt: string;
  capImpressions: string;
  capWindow: string;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

export function adForm(ad: Ad | null): AdForm {
  const c = ad?.creative;
  return {
    id: ad?.id ?? '',
    name: ad?.name ?? '',
    status: ad?.status ?? 'active',
    clickUrl: ad?.clickUrl ?? '',
    type: c?.type ?? 'image',
    url: str(c?.url),
    html: str(c?.html),
    width: str(c?.width),
    height: str(c?.height),
    alt: str(c?.alt),
    startAt: localOf(ad?.startAt),
    endAt: localOf(ad?.endAt),
    capImpressions: str(ad?.frequencyCap?.impressions),
    capWindow: str(ad?.frequencyCap?.windowSeconds),
  };
}

export function adBody(f: AdForm, rule: unknown, creating: boolean): Record<string, unknown> {
  const opt = (k: string, v: unknown) => (v === undefined || v === '' ? {} : { [k]: v });
  const creative =
    f.type === 'image'
      ? {
          type: 'image',
          url: f.url,
          ...opt('width', numberOf(f.width)),
          ...opt('height', numberOf(f.height)),
          ...opt('alt', f.alt),
        }
      : {
          type: 'html',
          html: f.html,
          ...opt('width', numberOf(f.width)),
          ...opt('height', numberOf(f.height)),
        };
  const cap =
    f.capImpressions.trim() === '' && f.capWindow.trim() === ''
      ? null
      : { impressions: numberOf(f.capImpressions) ?? '', windowSeconds: numberOf(f.capWindow) ?? '' };
  return {
    ...(creating && f.id.trim() !== '' ? { id: f.id.trim() } : {}),
    name: f.name,
    status: f.status,
    clickUrl: f.clickUrl,
    creative,
    targeting: rule,
    frequencyCap: cap,
    startAt: isoOf(f.startAt),
    endAt: isoOf(f.endAt),
  };
}
