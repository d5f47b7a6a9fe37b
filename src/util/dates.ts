/**
 * Calendar dates as tongban reads them: ISO `YYYY-MM-DD` only (the input files' format,
 * docs/data-format.md), as day numbers since 1970-01-01 so that they compare and subtract as
 * numbers. Used by the input validation and by `date()`, `year()`, `month()`, `day()` in
 * expressions.
 */

/** Days since 1970-01-01 of an ISO date, or null when the text is not a real calendar date. */
export function dayNumber(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const dt = new Date(ms);
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return ms / 86_400_000;
}

/** Year, month (1–12) and day of a day number. */
export function calendarOf(days: number): { year: number; month: number; day: number } {
  const dt = new Date(days * 86_400_000);
  return { year: dt.getUTCFullYear(), month: dt.getUTCMonth() + 1, day: dt.getUTCDate() };
}
