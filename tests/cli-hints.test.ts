/**
 * A command line that helps (issue 14): "did you mean" for options, families, variance types and
 * variables (Stata/R names included), `=` pointed to `==`, confidence intervals at --level,
 * --dyad defaulting to i,j, an example in every --help, and progress text under --provinces.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commands } from '../src/cli/commands.ts';
import { runCli, tmp } from './helpers.ts';

const ROOT = join(import.meta.dirname, '..');
const NET = join(ROOT, 'tests', 'fixtures', 'qap', 'qap_network.csv');
const fit = (...a: string[]) => runCli(['fit', '--data', NET, ...a]);

describe('did you mean', () => {
  it('a misspelled required option', () => {
    const r = fit('--formla', 'coop ~ log_dist', '--family', 'logit');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Missing required argument: formula\n--formla: did you mean --formula\?/);
  });
  it('an unknown option', () => {
    const r = fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--vcv', 'HC1');
    expect(r.stderr).toMatch(/--vcv: did you mean --vcov\?/);
  });
  it('Stata and R names of families and variance types', () => {
    expect(fit('--formula', 'items ~ log_dist', '--family', 'nbreg').stderr).toMatch(/--family nbreg: did you mean --family negbin\?/);
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logistic').stderr).toMatch(/--family logistic: did you mean --family logit\?/);
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--vcov', 'robust').stderr).toMatch(/--vcov robust: did you mean --vcov HC1\?/);
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'lgoit').stderr).toMatch(/did you mean --family logit\?/);
    expect(fit('--formula', 'items ~ log_dist', '--family', 'negative-binomial').stderr).toMatch(/did you mean --family negbin\?/);
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--vcov', 'sandwich').stderr).toMatch(/did you mean --vcov HC1\?/);
    // a method tongban does not offer is not turned into a different one
    for (const [opt, value] of [['--vcov', 'HC3'], ['--family', 'zip'], ['--family', 'ztp']]) {
      const r = fit('--formula', 'items ~ log_dist', '--family', opt === '--family' ? value : 'logit', ...(opt === '--vcov' ? ['--vcov', value] : []));
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/did you mean/);
    }
  });
  it('a misspelled variable, in a formula and in a subset', () => {
    const r = fit('--formula', 'coop ~ log_dsit', '--family', 'logit');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown column 'log_dsit' in the formula: did you mean 'log_dist'\?/);
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--subset', 'sme_prov == 1').stderr).toMatch(/unknown column 'sme_prov': did you mean 'same_prov'\?/);
    // nothing close: the columns are listed
    expect(fit('--formula', 'coop ~ zzzzzz', '--family', 'logit').stderr).toMatch(/unknown column 'zzzzzz' in the formula \(columns: i, j, coop/);
  });
  it('= is pointed to ==', () => {
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--subset', 'same_prov = 1').stderr).toMatch(/compare with ==/);
  });
});

describe('the console and the defaults', () => {
  it('prints confidence intervals at --level', () => {
    const r = fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--level', '0.9');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Pr\(>\|z\|\)\s+5 %\s+95 %/);
  });
  it('--vcov dyadic takes i,j by default, and says which columns it needs when the file has none', () => {
    const r = fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--vcov', 'dyadic');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Standard errors: dyadic.*cities 100/);
    const other = runCli(['fit', '--data', join(ROOT, 'tests', 'fixtures', 'reference', 'quine.csv'), '--formula', 'Days ~ Age', '--family', 'ols', '--vcov', 'dyadic']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--vcov dyadic needs the two city columns: --dyad <col_i>,<col_j> \(the default, i,j, is not in/);
  });
  it('every command has an example in its --help', () => {
    for (const c of commands) {
      const name = String(c.command);
      const r = runCli([name, '--help']);
      expect(r.code, name).toBe(0);
      expect(r.stdout, name).toMatch(/Examples:\n\s+tongban /);
    }
  });
  it('--atmeans without --predict, and a factor with one level in the rows used, are errors, not silently ignored', () => {
    expect(fit('--formula', 'coop ~ log_dist', '--family', 'logit', '--atmeans').stderr).toMatch(/--atmeans goes with --predict/);
    const r = fit('--formula', 'coop ~ log_dist + factor(same_prov)', '--family', 'logit', '--subset', 'same_prov == 1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'factor\(same_prov\)' takes one value \('1'\) in the \d+ rows used: a factor needs at least two levels/);
  });
  it('network --out writes into a folder it creates', () => {
    const out = join(tmp(), 'new', 'folder', 'network.csv');
    const r = runCli(['network', '--data', NET, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^city,degree,strength,/);
  });
  it('progress under --provinces names the provinces, not every city', () => {
    const r = runCli(['dyads', '--input', join(ROOT, 'data', 'demo', '2021'), '--out', tmp(), '--provinces', '江苏,浙江']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/building pairs of the cities of 江苏, 浙江 \(of 333\)/);
  });
});
