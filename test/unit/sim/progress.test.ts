import { describe, expect, it } from 'vitest';
import { createProgress, type ProgressStream } from '../../../src/sim/progress.js';

function fakeStream(isTTY: boolean) {
  const chunks: string[] = [];
  const stream: ProgressStream = { isTTY, columns: 200, write: (c) => chunks.push(c) > 0 };
  return { stream, chunks };
}

describe('createProgress', () => {
  it('on a terminal redraws one line at most every 100 ms, with rate and ETA', () => {
    let t = 0;
    const { stream, chunks } = fakeStream(true);
    const p = createProgress({ label: 'run', total: 1000, stream, now: () => t });
    t = 1000;
    p.update(100);
    t = 1050;
    p.update(150); // within 100 ms: skipped
    t = 1200;
    p.update(200);
    p.done();
    expect(chunks).toHaveLength(3);
    expect(chunks[0]).toMatch(/^\rrun .* 10 % 100\/1\.0K · 6\.0K\/min · ETA 00:09/);
    expect(chunks[2]).toMatch(/100 % .*took 00:01/);
    expect(chunks[2]!.endsWith('\u001b[K\n')).toBe(true);
  });

  it('elsewhere writes plain lines, one per tenth of the way', () => {
    const { stream, chunks } = fakeStream(false);
    const p = createProgress({ label: 'run', total: 100, stream, now: () => 0 });
    for (let i = 0; i < 100; i++) p.update(i);
    p.done();
    p.update(100);
    expect(chunks).toHaveLength(11);
    expect(chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
  });
});
