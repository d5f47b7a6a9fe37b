/** The families QAP refits (models of the full pair table); a module of its own so that the CLI's option declarations can name them without loading the estimators. */
export const QAP_FAMILIES = ['logit', 'probit', 'ols', 'poisson', 'negbin'] as const;
export type QapFamily = (typeof QAP_FAMILIES)[number];
