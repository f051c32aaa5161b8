import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioError } from '../../../src/sim/scenario-schema.js';

const dir = new URL('../../../scenarios/', import.meta.url);
const minimal = {
  name: 'tiny',
  seed: 1,
  decisions: 10,
  ads: [{ id: 'a' }, { id: 'house' }],
  placement: { fallbackAdId: 'house', targets: [{ adId: 'a', share: 0.4 }] },
  traffic: { attributes: {} },
};

function problemsOf(input: unknown) {
  try {
    parseScenario(input);
  } catch (err) {
    if (err instanceof ScenarioError) return err.problems;
    throw err;
  }
  return [];
}

describe('parseScenario', () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('accepts the shipped scenario %s', (file) => {
    const s = parseScenario(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
    expect(`${s.name}.json`).toBe(file);
  });

  it('applies the defaults', () => {
    const s = parseScenario(minimal);
    expect(s).toMatchObject({
      durationHours: 24,
      servers: 1,
      statusDelaySeconds: 0,
      samplingRate: 1,
      controlIntervalSeconds: 60,
      users: 10_000,
      ads: [
        { id: 'a', targeting: null, frequencyCap: null, renderRate: 1 },
        { id: 'house', targeting: null, frequencyCap: null, renderRate: 1 },
      ],
      traffic: { attributes: {}, phases: [] },
    });
  });

  it('lists every problem of a bad scenario, each at its JSON pointer', () => {
    const bad = {
      seed: -1,
      decisions: 0,
      samplingRate: 0,
      extra: true,
      ads: [
        { id: 'a', targeting: { key: 'country', in: [] }, renderRate: 1.5 },
        { id: 'a', frequencyCap: { impressions: 0, windowSeconds: 60 } },
      ],
      placement: {
        fallbackAdId: 'nope',
        targets: [
          { adId: 'a', share: 0.7 },
          { adId: 'ghost', share: 0.6 },
        ],
      },
      traffic: {
        attributes: {
          country: { DE: 0.8, FR: 0.4 },
          age: { uniformInt: [65, 18] },
          member: { bool: 2 },
        },
        phases: [
          { fromHour: 13, attributes: {} },
          { fromHour: 12, attributes: { device: {} } },
          { fromHour: 24, attributes: {} },
        ],
      },
    };
    const problems = problemsOf(bad);
    const paths = problems.map((p) => p.path).sort();
    expect(paths).toEqual(
      [
        '/name',
        '/seed',
        '/decisions',
        '/samplingRate',
        '/extra',
        '/ads/0/renderRate',
        '/ads/0/targeting/in',
        '/ads/1/id',
        '/ads/1/frequencyCap/impressions',
        '/placement/fallbackAdId',
        '/placement/targets',
        '/placement/targets/1/adId',
        '/traffic/attributes/country',
        '/traffic/attributes/age/uniformInt',
        '/traffic/attributes/member/bool',
        '/traffic/phases/1/fromHour',
        '/traffic/phases/2/fromHour',
        '/traffic/phases/1/attributes/device',
      ].sort(),
    );
    expect(problems.find((p) => p.path === '/ads/1/id')?.message).toContain('duplicate');
    expect(problems.find((p) => p.path === '/placement/targets')?.message).toContain('sum to at most 1');
  });

  it('tells the three distribution shapes apart by their key', () => {
    const withAttrs = (attributes: object) => ({ ...minimal, traffic: { attributes } });
    expect(problemsOf(withAttrs({ age: { uniformInt: [18, 'x'] } })).map((p) => p.path)).toEqual([
      '/traffic/attributes/age/uniformInt/1',
    ]);
    expect(problemsOf(withAttrs({ member: { bool: 0.3, extra: 1 } })).map((p) => p.path)).toEqual([
      '/traffic/attributes/member/extra',
    ]);
    expect(problemsOf(withAttrs({ country: { DE: 'lots' } })).map((p) => p.path)).toEqual([
      '/traffic/attributes/country/DE',
    ]);
  });

  it('the error message names every problem', () => {
    expect(() => parseScenario({ ...minimal, seed: 'x', servers: 0 })).toThrow(/\/seed: .*\n.*\/servers: /s);
  });
});
