/** Where the bar goes: process.stderr, or a fake in tests. */
export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

const REDRAW_MS = 100;
const BAR_WIDTH = 20;

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '--:--';
  const s = Math.max(0, Math.round(ms / 1000));
  const mm = Math.floor(s / 60);
  return `${String(mm).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

const compact = (x: number): string =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}K` : String(Math.round(x));

/**
 * A progress bar for long simulations: decisions done, rate and ETA. On a terminal one line is
 * redrawn in place at most every 100 ms, so drawing never costs the simulation noticeable time;
 * elsewhere (CI logs, pipes) a plain line is written at every tenth of the way instead, since
 * carriage returns would pile up there.
 */
export function createProgress(opts: {
  label: string;
  total: number;
  stream?: ProgressStream;
  now?: () => number;
}) {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const started = now();
  let lastDraw = Number.NEGATIVE_INFINITY;
  let lastTenth = -1;
  let finished = false;

  const line = (done: number): string => {
    const elapsed = now() - started;
    const rate = elapsed > 0 ? (done / elapsed) * 60_000 : 0;
    const eta = done > 0 ? (elapsed / done) * (opts.total - done) : Number.POSITIVE_INFINITY;
    const frac = opts.total > 0 ? Math.min(1, done / opts.total) : 1;
    const filled = Math.round(frac * BAR_WIDTH);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
    return `${opts.label} ${bar} ${(frac * 100).toFixed(0).padStart(3)} % ${compact(done)}/${compact(opts.total)} · ${compact(rate)}/min · ETA ${formatDuration(eta)}`;
  };

  return {
    update(done: number): void {
      if (finished) return;
      if (tty) {
        const t = now();
        if (t - lastDraw < REDRAW_MS) return;
        lastDraw = t;
        const text = line(done);
        const width = stream.columns ?? 120;
        stream.write(`\r${text.slice(0, width - 1)}\u001b[K`);
        return;
      }
      const tenth = opts.total > 0 ? Math.floor((done / opts.total) * 10) : 10;
      if (tenth > lastTenth && tenth < 10) {
        lastTenth = tenth;
        stream.write(`${line(done)}\n`);
      }
    },

    /** Final line with the elapsed time; later updates are ignored. */
    done(): void {
      if (finished) return;
      finished = true;
      const text = `${line(opts.total)} · took ${formatDuration(now() - started)}`;
      stream.write(tty ? `\r${text}\u001b[K\n` : `${text}\n`);
    },
  };
}

export type Progress = ReturnType<typeof createProgress>;
