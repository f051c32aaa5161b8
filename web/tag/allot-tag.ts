/**
 * The publisher ad tag, served by Allot as `/tag.js`:
 *
 *   <div data-allot-placement="home-banner"></div>
 *   <script async src="https://ads.example.com/tag.js"></script>
 *
 * For each `[data-allot-placement]` element it asks Allot for a decision (context from
 * `data-allot-ctx-<key>` attributes, the user from `data-allot-user` or a first-party random id),
 * renders the creative (an image in a link through the click URL, or HTML in a sandboxed iframe
 * that cannot reach the page), and fires the impression only once the ad is viewable — at least
 * 50 % of it in view for 1 continuous second while the tab is visible (the MRC display
 * standard). No fill: the element is hidden. No dependencies; `window.allot.scan()` picks up
 * elements added later.
 */

interface Decision {
  decisionId: string;
  ad: {
    id: string;
    creative:
      | { type: 'image'; url: string; width: number; height: number; alt?: string }
      | { type: 'html'; html: string; width?: number; height?: number };
  };
  impressionUrl: string;
  clickUrl: string;
}

const VIEWABLE_RATIO = 0.5;
const VIEWABLE_MS = 1000;
const USER_KEY = 'allot_uid';

const script = document.currentScript as HTMLScriptElement | null;
/** Allot's origin: where this script came from. */
const base = new URL(script?.src ?? '/', location.href);
const abs = (url: string): string => new URL(url, base).href;

function userId(el: HTMLElement): string | undefined {
  if (el.dataset.allotUser) return el.dataset.allotUser;
  try {
    let id = localStorage.getItem(USER_KEY);
    if (id === null) {
      id = crypto.randomUUID();
      localStorage.setItem(USER_KEY, id);
    }
    return id;
  } catch {
    return undefined; // storage blocked: anonymous (frequency-capped ads are skipped)
  }
}

function context(el: HTMLElement): Record<string, string | number | boolean> {
  const ctx: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(el.dataset)) {
    if (!k.startsWith('allotCtx') || k.length === 8 || v === undefined) continue;
    const key = k[8]!.toLowerCase() + k.slice(9);
    ctx[key] = v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return ctx;
}

function render(el: HTMLElement, d: Decision): HTMLElement {
  const c = d.ad.creative;
  let node: HTMLElement;
  if (c.type === 'image') {
    const a = document.createElement('a');
    a.href = abs(d.clickUrl);
    a.target = '_blank';
    a.rel = 'noopener';
    const img = document.createElement('img');
    img.src = c.url;
    img.width = c.width;
    img.height = c.height;
    img.alt = c.alt ?? '';
    img.style.display = 'block';
    img.style.border = '0';
    a.append(img);
    node = a;
  } else {
    // No allow-same-origin: the creative runs in an opaque origin, away from the page and its cookies.
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', 'allow-scripts allow-popups allow-popups-to-escape-sandbox');
    frame.srcdoc = c.html;
    frame.width = String(c.width ?? 300);
    frame.height = String(c.height ?? 250);
    frame.style.border = '0';
    node = frame;
  }
  el.replaceChildren(node);
  el.dataset.allotAd = d.ad.id;
  el.dataset.allotState = 'rendered';
  return node;
}

/** Fires `onViewable` once the element has been ≥ 50 % in view for 1 s of a visible tab. */
function whenViewable(el: HTMLElement, onViewable: () => void): void {
  let timer: number | undefined;
  let inView = false;
  const stop = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const start = () => {
    if (timer === undefined && inView && document.visibilityState === 'visible') {
      timer = window.setTimeout(() => {
        observer.disconnect();
        document.removeEventListener('visibilitychange', onVisibility);
        onViewable();
      }, VIEWABLE_MS);
    }
  };
  const onVisibility = () => (document.visibilityState === 'visible' ? start() : stop());
  const observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        inView = e.isIntersecting && e.intersectionRatio >= VIEWABLE_RATIO;
        if (inView) start();
        else stop();
      }
    },
    { threshold: [0, VIEWABLE_RATIO, 1] },
  );
  observer.observe(el);
  document.addEventListener('visibilitychange', onVisibility);
}

/** Backoff before each retry of an impression Allot could not record (about a minute in all). */
const RETRY_MS = [1000, 2000, 4000, 8000, 16000, 32000];

/**
 * Fires the impression beacon. `keepalive` lets it outlive the page; a `503` (Allot could not
 * make the event durable, e.g. its broker is down), a `429` or a network error is retried with
 * backoff — safe, since Allot counts each decision's impression at most once.
 */
function sendImpression(url: string, attempt: number): void {
  const retry = () => {
    if (attempt < RETRY_MS.length) setTimeout(() => sendImpression(url, attempt + 1), RETRY_MS[attempt]);
  };
  fetch(url, { credentials: 'omit', keepalive: true }).then((res) => {
    if (res.status === 503 || res.status === 429) retry();
  }, retry);
}

async function fill(el: HTMLElement): Promise<void> {
  const placementId = el.dataset.allotPlacement;
  if (!placementId || el.dataset.allotState) return;
  el.dataset.allotState = 'loading';
  try {
    const res = await fetch(abs('/v1/decisions'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ placementId, userId: userId(el), context: context(el) }),
      credentials: 'omit',
    });
    if (res.status !== 200) {
      // 204: nothing to show here; anything else: no ad either, the page stays as it is.
      el.dataset.allotState = res.status === 204 ? 'empty' : 'error';
      el.style.display = 'none';
      return;
    }
    const d = (await res.json()) as Decision;
    const node = render(el, d);
    whenViewable(node, () => {
      el.dataset.allotState = 'viewed';
      sendImpression(abs(d.impressionUrl), 0);
    });
  } catch {
    el.dataset.allotState = 'error';
    el.style.display = 'none';
  }
}

function scan(): void {
  for (const el of document.querySelectorAll<HTMLElement>('[data-allot-placement]')) void fill(el);
}

(window as unknown as { allot: { scan: () => void } }).allot = { scan };
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', scan);
else scan();
