/**
 * The standard normal CDF Φ for the probit's hot loops: the value of @stdlib's normal cdf
 * (`cdf(x, 0, 1)` = 0.5 · erfc(−x/√2), erfc by FreeBSD's s_erf.c rational approximations)
 * computed in one function with the polynomials written out. The library's version calls a
 * function per polynomial and for exp, and each call returns a boxed double: a probit fit on a
 * million rows made five times the short-lived garbage of a logit and took almost twice as long.
 * Same operations in the same order (Math.exp is fdlibm's exp, as @stdlib's), so the same bits:
 * tests/phi.test.ts compares the two over millions of values.
 */

const SQRT2 = Math.sqrt(2);
const ERX = 8.45062911510467529297e-1;
const TINY = 1e-300;
const SMALL = 1.3877787807814457e-17;
/** a double whose low 32 bits are set to 0 (FreeBSD's SET_LOW_WORD) */
const word = new Float64Array(1);
const halves = new Uint32Array(word.buffer);
const LOW = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;

/** erfc(x) as FreeBSD computes it (x not NaN) */
function erfc(x: number): number {
  if (x === Infinity) return 0;
  if (x === -Infinity) return 2;
  if (x === 0) return 1;
  const sign = x < 0;
  const ax = sign ? -x : x;
  if (ax < 0.84375) {
    if (ax < SMALL) return 1 - x;
    const z = x * x;
    const r = 1.28379167095512558561e-1 + z * (-0.3250421072470015 + z * (-0.02848174957559851 + z * (-0.005770270296489442 + z * -0.000023763016656650163)));
    const s = 1 + z * (0.39791722395915535 + z * (0.0650222499887673 + z * (0.005081306281875766 + z * (0.00013249473800432164 + z * -0.000003960228278775368))));
    const y = r / s;
    if (x < 0.25) return 1 - (x + x * y);
    let t = x * y;
    t += x - 0.5;
    return 0.5 - t;
  }
  if (ax < 1.25) {
    const s = ax - 1;
    const p = -2.36211856075265944077e-3 + s * (0.41485611868374833 + s * (-0.3722078760357013 + s * (0.31834661990116175 + s * (-0.11089469428239668 + s * (0.035478304325618236 + s * -0.002166375594868791)))));
    const q = 1 + s * (0.10642088040084423 + s * (0.540397917702171 + s * (0.07182865441419627 + s * (0.12617121980876164 + s * (0.01363708391202905 + s * 0.011984499846799107)))));
    return sign ? 1 + ERX + p / q : 1 - ERX - p / q;
  }
  if (ax < 28) {
    const s = 1 / (ax * ax);
    let r: number;
    let q: number;
    if (ax < 2.857142857142857) {
      r = -9.86494403484714822705e-3 + s * (-0.6938585727071818 + s * (-10.558626225323291 + s * (-62.375332450326006 + s * (-162.39666946257347 + s * (-184.60509290671104 + s * (-81.2874355063066 + s * -9.814329344169145))))));
      q = 1 + s * (19.651271667439257 + s * (137.65775414351904 + s * (434.56587747522923 + s * (645.3872717332679 + s * (429.00814002756783 + s * (108.63500554177944 + s * (6.570249770319282 + s * -0.0604244152148581)))))));
    } else {
      if (x < -6) return 2 - TINY;
      r = -9.86494292470009928597e-3 + s * (-0.799283237680523 + s * (-17.757954917754752 + s * (-160.63638485582192 + s * (-637.5664433683896 + s * (-1025.0951316110772 + s * -483.5191916086514)))));
      q = 1 + s * (30.33806074348246 + s * (325.7925129965739 + s * (1536.729586084437 + s * (3199.8582195085955 + s * (2553.0504064331644 + s * (474.52854120695537 + s * -22.44095244658582))))));
    }
    word[0] = ax;
    halves[LOW] = 0;
    const z = word[0];
    const e = Math.exp(-(z * z) - 0.5625) * Math.exp((z - ax) * (z + ax) + r / q);
    return sign ? 2 - e / ax : e / ax;
  }
  return sign ? 2 - TINY : TINY * TINY;
}

/** Φ(x); NaN for NaN. */
export function phi(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return 0.5 * erfc(-x / SQRT2);
}
