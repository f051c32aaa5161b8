import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderHtml, renderSvg } from '../sim/plot-svg.js';
import { createProgress } from '../sim/progress.js';
import { buildReport, type ScenarioReport, toJson, toMarkdown } from '../sim/report.js';
import { parseScenario, type Scenario, ScenarioError } from '../sim/scenario-schema.js';
import { type SimResult, simulate } from '../sim/simulate.js';
import { STRATEGIES, type Strategy } from '../sim/strategies.js';

export const SIM_HELP = `allot sim — compare selection strategies on simulated traffic

Usage:
  allot sim --scenario <file.json> [--strategies allot,smooth,lottery] [--out <dir>] [--decisions N]

  --scenario    scenario file (see scenarios/*.json)
  --strategies  comma-separated subset of: ${STRATEGIES.join(', ')} (default: all)
  --out         where <scenario>.svg, .html and .json go (default: ./sim-out)
  --decisions   override the scenario's number of decisions
  --quiet       no progress bar

Prints the comparison as a Markdown table. Runs are seeded: the same scenario gives the same numbers.
`;

/** A usage or input problem: printed without a stack trace, exit code 2. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly showHelp = true,
  ) {
    super(message);
  }
}

export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read scenario ${path}: ${(err as Error).message}`, false);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`scenario ${path} is not valid JSON: ${(err as Error).message}`, false);
  }
  try {
    return parseScenario(json);
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(`${path}: ${err.message}`, false);
    throw err;
  }
}

export function parseStrategies(list: string | undefined): Strategy[] {
  if (list === undefined) return [...STRATEGIES];
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = names.filter((s) => !(STRATEGIES as readonly string[]).includes(s));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `--strategies: unknown ${unknown.join(', ') || '(empty)'}; choose from ${STRATEGIES.join(', ')}`,
    );
  }
  return [...new Set(names)] as Strategy[];
}

/** Runs every strategy on the scenario's traffic, one after another (each is seeded alike). */
export async function compareStrategies(
  scenario: Scenario,
  strategies: readonly Strategy[],
  showProgress: boolean,
): Promise<{ report: ScenarioReport; results: SimResult[] }> {
  const results: SimResult[] = [];
  for (const strategy of strategies) {
    const progress = showProgress
      ? createProgress({ label: `${scenario.name} ${strategy.padEnd(7)}`, total: scenario.decisions })
      : null;
    results.push(
      await simulate(scenario, strategy, progress === null ? undefined : (done) => progress.update(done)),
    );
    progress?.done();
  }
  return { report: buildReport(scenario, results), results };
}

/** Writes `<out>/<scenario>.svg`, `.html` and `.json`; returns their paths. */
export async function writeOutputs(out: string, report: ScenarioReport, results: readonly SimResult[]) {
  await mkdir(out, { recursive: true });
  const svg = renderSvg(report, results);
  const files = {
    svg: join(out, `${report.scenario}.svg`),
    html: join(out, `${report.scenario}.html`),
    json: join(out, `${report.scenario}.json`),
  };
  await writeFile(files.svg, svg);
  await writeFile(files.html, renderHtml(report, svg));
  await writeFile(files.json, toJson(report, results));
  return files;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** `allot sim …` (argv without the command name). Resolves to the exit code. */
export async function runSimCommand(argv: string[]): Promise<number> {
  try {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: {
          scenario: { type: 'string' },
          strategies: { type: 'string' },
          out: { type: 'string' },
          decisions: { type: 'string' },
          quiet: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
        allowPositionals: false,
        strict: true,
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help === true) {
      process.stdout.write(SIM_HELP);
      return 0;
    }
    if (typeof values.scenario !== 'string') throw new UsageError('--scenario <file> is required');
    const strategies = parseStrategies(typeof values.strategies === 'string' ? values.strategies : undefined);
    const decisions = positiveInt(
      typeof values.decisions === 'string' ? values.decisions : undefined,
      '--decisions',
    );
    const loaded = await loadScenario(values.scenario);
    const scenario = decisions === undefined ? loaded : { ...loaded, decisions };
    const { report, results } = await compareStrategies(scenario, strategies, values.quiet !== true);
    process.stdout.write(`## ${scenario.name}\n\n${toMarkdown(report)}\n`);
    const files = await writeOutputs(
      typeof values.out === 'string' ? values.out : 'sim-out',
      report,
      results,
    );
    process.stderr.write(`wrote ${files.svg}, ${files.html}, ${files.json}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`allot sim: ${err.message}\n${err.showHelp ? `\n${SIM_HELP}` : ''}`);
      return 2;
    }
    throw err;
  }
}
