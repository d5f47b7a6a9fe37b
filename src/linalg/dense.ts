/**
 * Small dense kernels on Float64Array: row-major k×k matrices (k ≤ ~50), and the linear
 * predictor, the one pass over n rows that every estimator and effect shares. The other
 * heavy passes (cross products) live in crossprod.ts and parallel.ts.
 */

/** Copies the upper triangle into the lower one. */
export function symmetrize(a: Float64Array, k: number): void {
  for (let r = 0; r < k; r++) for (let c = r + 1; c < k; c++) a[c * k + r] = a[r * k + c];
}

/** η = offset + Xβ for every row of a row-major n × p matrix (or rows `from` … n − 1), into `eta`. */
export function linearPredictor(X: Float64Array, n: number, p: number, beta: Float64Array, offset: Float64Array | null, eta: Float64Array = new Float64Array(n), from = 0): Float64Array {
  for (let r = from; r < n; r++) {
    let e = offset ? offset[r] : 0;
    const o = r * p;
    for (let a = 0; a < p; a++) e += X[o + a] * beta[a];
    eta[r] = e;
  }
  return eta;
}

/**
 * Cholesky factor L (lower, row-major) of a symmetric positive-definite matrix.
 * Returns null when the matrix is not positive definite.
 */
export function cholesky(a: Float64Array, k: number): Float64Array | null {
  const l = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j];
    for (let m = 0; m < j; m++) d -= l[j * k + m] * l[j * k + m];
    if (!(d > 0)) return null;
    const ljj = Math.sqrt(d);
    l[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j];
      for (let m = 0; m < j; m++) s -= l[i * k + m] * l[j * k + m];
      l[i * k + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L L' x = b for x. */
export function cholSolve(l: Float64Array, k: number, b: Float64Array): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= l[i * k + m] * y[m];
    y[i] = s / l[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < k; m++) s -= l[m * k + i] * x[m];
    x[i] = s / l[i * k + i];
  }
  return x;
}

/** Inverse of a symmetric positive-definite matrix from its Cholesky factor. */
export function cholInverse(l: Float64Array, k: number): Float64Array {
  const inv = new Float64Array(k * k);
  const e = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    e.fill(0);
    e[c] = 1;
    const x = cholSolve(l, k, e);
    for (let r = 0; r < k; r++) inv[r * k + c] = x[r];
  }
  return averageWithTranspose(inv, k);
}

/** Makes a numerically near-symmetric matrix exactly symmetric, (A + A')/2, in place. */
function averageWithTranspose(a: Float64Array, k: number): Float64Array {
  for (let r = 0; r < k; r++) {
    for (let c = r + 1; c < k; c++) {
      const v = 0.5 * (a[r * k + c] + a[c * k + r]);
      a[r * k + c] = v;
      a[c * k + r] = v;
    }
  }
  return a;
}

/** Inverse of a symmetric positive-definite matrix; null when it is not. */
export function spdInverse(a: Float64Array, k: number): Float64Array | null {
  const l = cholesky(a, k);
  return l ? cholInverse(l, k) : null;
}

/** C = A B for k×k matrices. */
export function matmul(a: Float64Array, b: Float64Array, k: number): Float64Array {
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let m = 0; m < k; m++) {
      const aim = a[i * k + m];
      if (aim === 0) continue;
      for (let j = 0; j < k; j++) c[i * k + j] += aim * b[m * k + j];
    }
  }
  return c;
}

/** B M B for symmetric k×k B and M (a sandwich), exactly symmetric. */
export function sandwich(b: Float64Array, m: Float64Array, k: number): Float64Array {
  return averageWithTranspose(matmul(matmul(b, m, k), b, k), k);
}

export function scale(a: Float64Array, f: number): Float64Array {
  return a.map((x) => x * f);
}

/** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations (ascending), and eigenvectors (columns). */
export function symmetricEigen(a: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a);
  const v = new Float64Array(k * k);
  for (let i = 0; i < k; i++) v[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += m[p * k + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = m[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * k + q] - m[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = m[r * k + p];
          const arq = m[r * k + q];
          m[r * k + p] = c * arp - s * arq;
          m[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = m[p * k + r];
          const aqr = m[q * k + r];
          m[p * k + r] = c * apr - s * aqr;
          m[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = v[r * k + p];
          const vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const idx = Array.from({ length: k }, (_, i) => i).sort((x, y) => m[x * k + x] - m[y * k + y]);
  const values = Float64Array.from(idx, (i) => m[i * k + i]);
  const vectors = new Float64Array(k * k);
  idx.forEach((i, c) => {
    for (let r = 0; r < k; r++) vectors[r * k + c] = v[r * k + i];
  });
  return { values, vectors };
}
