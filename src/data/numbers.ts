/** The one definition of a number in a text cell, for every reader and schema. */

/**
 * A decimal number as a CSV cell holds it: optional sign, digits with an optional
 * fraction (or a leading-dot fraction), optional exponent. Unambiguous, so matching is
 * linear in the cell's length.
 */
const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a (trimmed) text is a decimal number. */
export const isNumberText = (t: string): boolean => NUMBER_RE.test(t);
