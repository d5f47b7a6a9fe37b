/**
 * The estimation warnings that reach a table's notes, in the table's language. The estimators
 * and variance kernels word their warnings in English (the console, the fit JSON and the logs keep
 * that wording); a Chinese table gets each known warning in Chinese, with its numbers. A warning
 * with no translation here stays in English rather than being dropped. tests/report.test.ts
 * translates an example of each and the warnings real fits of the demo data produce.
 */

type Rule = [RegExp, (m: RegExpExecArray) => string];

const VARIANCE_ZH: Record<string, string> = { dyadic: '二元组稳健', 'two-way cluster': '双向聚类' };
const variance = (label: string) => VARIANCE_ZH[label] ?? label;

const ZH: Rule[] = [
  // the cleaning stage's warnings (src/data/clean.ts)
  [/^(\S+) row (\d+): city (.+) listed twice in region '(.+)'; the repeat is ignored$/, (m) => `${m[1]} 第 ${m[2]} 行：城市 ${m[3]} 在区域“${m[4]}”中重复列出，重复项已忽略`],
  [/^(\d+) cit(?:y has|ies have) budget_revenue = 0: log_budget_revenue is missing for (?:it|them)$/, (m) => `${m[1]} 个城市的 budget_revenue 为 0：其 log_budget_revenue 记为缺失`],
  [/^cities\.csv already has a column '(.+)'; it is replaced by the derived value$/, (m) => `cities.csv 已有列“${m[1]}”，已由派生值替换`],
  [/^cities\.csv: (\d+) missing values? in '(.+)'$/, (m) => `cities.csv：“${m[2]}”有 ${m[1]} 个缺失值`],
  [/^cities\.csv has no lon\/lat: distance columns will be empty$/, () => 'cities.csv 没有经纬度（lon/lat）：距离变量将为空'],
  [
    /^cities\.csv (\S+): (\d+) values? starts? with = \+ - @ \(e\.g\. row (\d+): (.+)\); a spreadsheet opening cities_clean\.csv or dyads\.csv may run (?:them|it) as a formula \(tongban's own tables neutralise such cells\)$/,
    (m) => `cities.csv 的 ${m[1]}：${m[2]} 个值以 = + - @ 开头（如第 ${m[3]} 行：${m[4]}）；用电子表格打开 cities_clean.csv 或 dyads.csv 时可能被当作公式执行（tongban 自己的表格已作处理）`,
  ],
  [
    /^agreements\.csv: (\d+) pairs? (?:were|was) first signed after (\d{4})-12-31, the end of this folder's year \(e\.g\. rows ([^:]+): (\S+)\); is the folder or the date right\?$/,
    (m) => `agreements.csv：${m[1]} 个城市对的首次签署日期晚于该文件夹年份的年末 ${m[2]}-12-31（如第 ${m[3]} 行：${m[4]}）；请核对文件夹或日期`,
  ],
  [/^no flows\.csv: flow = 0 for every dyad$/, () => '没有 flows.csv：所有城市对的人口流动记为 0'],
  [/^no regions\.csv: same_region = 0 for every dyad$/, () => '没有 regions.csv：所有城市对的 same_region 记为 0'],
  // the estimators' warnings
  [
    /^the (.+) variance matrix is not positive semi-definite: smallest eigenvalue (\S+) \((\d+) negative\); standard errors may be unreliable \(repair on request: --fix-psd, or fix_psd: true in a spec\)$/,
    (m) => `${variance(m[1])}方差矩阵非半正定：最小特征值 ${m[2]}（${m[3]} 个为负），标准误可能不可靠（可在设定文件中以 fix_psd: true 修正）`,
  ],
  [
    /^the (.+) variance matrix was not positive semi-definite \(smallest eigenvalue (\S+)\); repaired on request by setting (\d+) negative eigenvalues? to 0$/,
    (m) => `${variance(m[1])}方差矩阵非半正定（最小特征值 ${m[2]}），已按设定将 ${m[3]} 个负特征值置为 0`,
  ],
  [/^only (\d+) clusters in '(.+)': cluster-robust standard errors are unreliable with fewer than about (\d+)$/, (m) => `'${m[2]}' 仅有 ${m[1]} 个聚类，少于约 ${m[3]} 个时聚类稳健标准误不可靠`],
  [
    /^fitted probabilities numerically 0 or 1 occurred for (\d+) rows? \(possible separation: coefficients may be diverging; consider firth-logit\)$/,
    (m) => `${m[1]} 个观测的拟合概率在数值上为 0 或 1（可能存在完全分离，系数可能发散；可考虑 Firth logit）`,
  ],
  [/^perfectly collinear columns? dropped \(estimate null, as R reports NA\): (.+)$/, (m) => `完全共线的变量已剔除（无估计值，R 报告为 NA）：${m[1]}`],
  [/^'(.+)' is not a number on (\d+) rows? where its inputs are present \(data rows ([^;]+); e\.g\. the log of a negative number\): (?:they are|it is) left out like missing values$/, (m) => `'${m[1]}' 在 ${m[2]} 行（数据行 ${m[3]}）无法计算（如负数取对数），按缺失值剔除`],
  [/^the weighted information matrix X'WX became singular at iteration (\d+) \(separation or a degenerate design\?\)$/, (m) => `加权信息矩阵 X'WX 在第 ${m[1]} 次迭代时奇异（完全分离或设计矩阵退化？）`],
  [/^the deviance became non-finite at iteration (\d+); no valid step found$/, (m) => `偏差在第 ${m[1]} 次迭代时变为非有限值，找不到有效步长`],
  [/^IRLS did not converge in (\d+) iterations$/, (m) => `IRLS 在 ${m[1]} 次迭代内未收敛`],
  [/^the information matrix is singular at the estimate: standard errors are not available$/, () => '估计值处信息矩阵奇异，无法给出标准误'],
  [/^the estimator did not converge$/, () => '估计未收敛'],
  [/^firth: the information matrix became singular$/, () => 'Firth：信息矩阵奇异'],
  [/^firth: did not converge in (\d+) iterations \(largest modified score (\S+)\)$/, (m) => `Firth：${m[1]} 次迭代内未收敛（修正得分最大值 ${m[2]}）`],
  [/^alternating estimation of β and θ did not converge in (\d+) rounds$/, (m) => `β 与 θ 的交替估计在 ${m[1]} 轮内未收敛`],
  [
    /^theta ran to the Poisson boundary \(θ = (\S+), α = 1\/θ ≈ 0\): the data show no overdispersion; the Poisson model is the better description$/,
    (m) => `θ 趋于泊松边界（θ = ${m[1]}，α = 1/θ ≈ 0）：数据无过度离散，泊松模型更合适`,
  ],
  [/^the log-likelihood is not finite at the starting values$/, () => '初始值处对数似然非有限'],
  [/^Newton: no ascent direction could be found$/, () => 'Newton 法：找不到上升方向'],
  [/^Newton stalled at iteration (\d+) \(largest gradient (\S+)\)$/, (m) => `Newton 法在第 ${m[1]} 次迭代停滞（最大梯度 ${m[2]}）`],
  [/^Newton did not converge in (\d+) iterations \(largest gradient (\S+)\)$/, (m) => `Newton 法在 ${m[1]} 次迭代内未收敛（最大梯度 ${m[2]}）`],
  [/^the observed information is not positive definite at the estimate: standard errors are not available$/, () => '估计值处观测信息矩阵非正定，无法给出标准误'],
  [/^the observed information is badly conditioned \(pivot ratio (\S+)\): standard errors may be unreliable$/, (m) => `观测信息矩阵病态（主元比 ${m[1]}），标准误可能不可靠`],
  [/^ml-regression and the normal equations disagree by (\S+) \(relative\): the design is ill-conditioned$/, (m) => `ml-regression 与正规方程的结果相差 ${m[1]}（相对），设计矩阵病态`],
];

/** A warning in the table's language (known warnings; parts of two-part models keep their prefix). */
export function warningText(w: string, lang: 'zh' | 'en'): string {
  if (lang === 'en') return w;
  const part = /^(zero|count) part: (.*)$/.exec(w);
  if (part) return `${part[1] === 'zero' ? '零部分' : '计数部分'}：${warningText(part[2], lang)}`;
  for (const [re, f] of ZH) {
    const m = re.exec(w);
    if (m) return f(m);
  }
  return w;
}
