/**
 * Maximum likelihood for models whose log-likelihood is a sum over rows of a function
 * of a few linear predictors t_b = X_b β_b (ZTNB: log μ and log θ; ZINB: log μ, log θ
 * and the inflation logit). The model supplies, per row, ℓ and its first and second
 * derivatives in the linear predictors; this engine assembles the gradient and the
 * Hessian in β and runs Newton's method with step halving (and a ridge when the
 * Hessian is not negative definite). Observed information and score rows come out
 * for the variance layer.
 */
import { cholesky, cholInverse, cholSolve } from '../linalg/dense.ts';
import { denseScores, type ScoreRows } from '../vcov/vcov.ts';

export interface Block {
  /** row-major n × p design of this linear predictor (p = 1 and X = ones for a scalar like log θ) */
  X: Float64Array;
  p: number;
}

/**
 * Per-row log-likelihood: given the linear predictors t (length m = number of blocks),
 * writes dℓ/dt into g (m) and d²ℓ/dt dt' into h (m × m, row-major) and returns ℓ.
 */
export type RowLoglik = (r: number, t: Float64Array, g: Float64Array, h: Float64Array) => number;

export interface MleFit {
  beta: Float64Array;
  loglik: number;
  /** per-row log-likelihood at the estimate (for Vuong tests) */
  rowLoglik: Float64Array;
  /** inverse of the negative Hessian (observed information) at the estimate, K × K */
  vcov: Float64Array | null;
  scores: ScoreRows;
  converged: boolean;
  iterations: number;
  /** problems met (including a badly conditioned observed information) */
  warnings: string[];
}

export interface MleOptions {
  maxit?: number;
  /** stop when the Newton step is below this (relative to |β| + 0.1) … */
  stepTol?: number;
  /** … and the gradient below this */
  gradTol?: number;
}

export function fitMle(n: number, blocks: Block[], rowFn: RowLoglik, start: Float64Array, opts: MleOptions = {}): MleFit {
  const m = blocks.length;
  const offsets: number[] = [];
  let K = 0;
  for (const b of blocks) {
    offsets.push(K);
    K += b.p;
  }
  const maxit = opts.maxit ?? 200;
  const stepTol = opts.stepTol ?? 1e-10;
  const gradTol = opts.gradTol ?? 1e-8;
  const t = new Float64Array(m);
  const g = new Float64Array(m);
  const h = new Float64Array(m * m);
  const warnings: string[] = [];

  const predictors = (beta: Float64Array, r: number) => {
    for (let b = 0; b < m; b++) {
      const { X, p } = blocks[b];
      let s = 0;
      const o = r * p;
      const off = offsets[b];
      for (let a = 0; a < p; a++) s += X[o + a] * beta[off + a];
      t[b] = s;
    }
  };
  const loglikOnly = (beta: Float64Array): number => {
    let ll = 0;
    for (let r = 0; r < n; r++) {
      predictors(beta, r);
      ll += rowFn(r, t, g, h);
    }
    return ll;
  };
  /** ℓ, gradient and Hessian (and optionally per-row scores and log-likelihoods) at β. */
  const evaluate = (beta: Float64Array, U: Float64Array | null, rowLl: Float64Array | null) => {
    const grad = new Float64Array(K);
    const hess = new Float64Array(K * K);
    let ll = 0;
    for (let r = 0; r < n; r++) {
      predictors(beta, r);
      const lr = rowFn(r, t, g, h);
      ll += lr;
      if (rowLl) rowLl[r] = lr;
      for (let b = 0; b < m; b++) {
        const { X: Xb, p: pb } = blocks[b];
        const ob = r * pb;
        const offB = offsets[b];
        const gb = g[b];
        for (let a = 0; a < pb; a++) {
          const v = gb * Xb[ob + a];
          grad[offB + a] += v;
          if (U) U[r * K + offB + a] = v;
        }
        for (let c = b; c < m; c++) {
          const hbc = h[b * m + c];
          if (hbc === 0) continue;
          const { X: Xc, p: pc } = blocks[c];
          const oc = r * pc;
          const offC = offsets[c];
          for (let a = 0; a < pb; a++) {
            const xa = hbc * Xb[ob + a];
            if (xa === 0) continue;
            const row = (offB + a) * K + offC;
            for (let q = 0; q < pc; q++) hess[row + q] += xa * Xc[oc + q];
          }
        }
      }
    }
    // fill the lower blocks / the lower triangle of diagonal blocks
    for (let b = 0; b < m; b++) {
      for (let c = b; c < m; c++) {
        for (let a = 0; a < blocks[b].p; a++) {
          for (let q = 0; q < blocks[c].p; q++) {
            const i = offsets[b] + a;
            const j = offsets[c] + q;
            if (b === c && q < a) continue;
            hess[j * K + i] = hess[i * K + j];
          }
        }
      }
    }
    return { ll, grad, hess };
  };

  let beta = Float64Array.from(start);
  let cur = evaluate(beta, null, null);
  if (!Number.isFinite(cur.ll)) warnings.push('the log-likelihood is not finite at the starting values');
  let converged = false;
  let iterations = 0;
  let maxGrad = Infinity;
  for (iterations = 1; iterations <= maxit; iterations++) {
    const negH = cur.hess.map((v) => -v);
    let l = cholesky(negH, K);
    let ridge = 0;
    if (!l) {
      // not concave here: a ridge (Levenberg–Marquardt) until the system is positive definite
      let diag = 0;
      for (let a = 0; a < K; a++) diag = Math.max(diag, Math.abs(negH[a * K + a]));
      ridge = 1e-8 * (diag || 1);
      while (!l && ridge < 1e12 * (diag || 1)) {
        const A = Float64Array.from(negH);
        for (let a = 0; a < K; a++) A[a * K + a] += ridge;
        l = cholesky(A, K);
        if (!l) ridge *= 10;
      }
      if (!l) {
        warnings.push('Newton: no ascent direction could be found');
        break;
      }
    }
    const delta = cholSolve(l, K, cur.grad);
    maxGrad = Math.max(...Array.from(cur.grad, Math.abs));
    let step = 0;
    for (let a = 0; a < K; a++) step = Math.max(step, Math.abs(delta[a]) / (Math.abs(beta[a]) + 0.1));
    if (ridge === 0 && step < stepTol && maxGrad < gradTol) {
      converged = true;
      break;
    }
    let f = 1;
    let next = beta.map((b, a) => b + delta[a]);
    let llNext = loglikOnly(next);
    while (!(llNext >= cur.ll - 1e-12 * Math.abs(cur.ll)) && f > 1e-10) {
      f /= 2;
      next = beta.map((b, a) => b + f * delta[a]);
      llNext = loglikOnly(next);
    }
    if (!(llNext >= cur.ll - 1e-12 * Math.abs(cur.ll))) {
      // no progress possible: we are at the optimum to machine precision, or stuck
      if (maxGrad < Math.sqrt(gradTol)) converged = true;
      else warnings.push(`Newton stalled at iteration ${iterations} (largest gradient ${maxGrad.toExponential(2)})`);
      break;
    }
    beta = next;
    cur = evaluate(beta, null, null);
  }
  if (!converged && iterations > maxit) warnings.push(`Newton did not converge in ${maxit} iterations (largest gradient ${maxGrad.toExponential(2)})`);
  iterations = Math.min(iterations, maxit);
  const U = new Float64Array(n * K);
  const rowLoglik = new Float64Array(n);
  const fin = evaluate(beta, U, rowLoglik);
  const negH = fin.hess.map((v) => -v);
  const l = cholesky(negH, K);
  if (!l) warnings.push('the observed information is not positive definite at the estimate: standard errors are not available');
  else {
    // conditioning: ratio of the largest to smallest squared Cholesky pivots (a cheap estimate)
    let lo = Infinity;
    let hi = 0;
    for (let a = 0; a < K; a++) {
      const d = l[a * K + a] ** 2;
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    if (hi / lo > 1e12) warnings.push(`the observed information is badly conditioned (pivot ratio ${(hi / lo).toExponential(1)}): standard errors may be unreliable`);
  }
  return {
    beta,
    loglik: fin.ll,
    rowLoglik,
    vcov: l ? cholInverse(l, K) : null,
    scores: denseScores(U, n, K),
    converged,
    iterations,
    warnings,
  };
}
