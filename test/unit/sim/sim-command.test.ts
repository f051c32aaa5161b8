import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSimCommand } from '../../../src/cli/sim-command.js';

describe('allot sim', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'allot-sim-'));
    out = [];
    err = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c) => out.push(String(c)) > 0);
    vi.spyOn(process.stderr, 'write').mockImplementation((c) => err.push(String(c)) > 0);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the comparison and writes the SVG, HTML and JSON', async () => {
    const file = join(dir, 'basic.json');
    writeFileSync(file, readFileSync(new URL('../../../scenarios/basic.json', import.meta.url)));
    const code = await runSimCommand([
      '--scenario',
      file,
      '--decisions',
      '20000',
      '--strategies',
      'allot,lottery',
      '--out',
      join(dir, 'out'),
      '--quiet',
    ]);
    expect(code).toBe(0);
    const table = out.join('');
    expect(table).toContain('## basic');
    expect(table).toContain('| Allot (smooth RR + controller) |');
    expect(table).not.toContain('Smooth RR, no feedback');
    for (const ext of ['svg', 'html', 'json'])
      expect(existsSync(join(dir, 'out', `basic.${ext}`))).toBe(true);
    expect(readFileSync(join(dir, 'out', 'basic.svg'), 'utf8')).toMatch(/^<svg [^>]*viewBox/);
    expect(JSON.parse(readFileSync(join(dir, 'out', 'basic.json'), 'utf8')).decisions).toBe(20_000);
  });

  it('rejects a bad scenario with every problem and exit code 2', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ name: 'bad', seed: 1, decisions: 0, ads: [], placement: { targets: [] } }),
    );
    expect(await runSimCommand(['--scenario', file])).toBe(2);
    const text = err.join('');
    for (const path of ['/decisions', '/ads', '/traffic', '/placement']) expect(text).toContain(`${path}:`);
  });

  it('rejects unknown strategies and flags with usage, exit code 2', async () => {
    expect(await runSimCommand(['--scenario', 'x.json', '--strategies', 'allot,random'])).toBe(2);
    expect(err.join('')).toContain('unknown random');
    expect(await runSimCommand(['--scenari', 'x.json'])).toBe(2);
    expect(await runSimCommand([])).toBe(2);
    expect(err.join('')).toContain('Usage:');
  });
});
