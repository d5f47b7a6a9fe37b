/** zod schemas for command-line options: checked once at the edge, typed after. */
import { z } from 'zod';
import { UsageError } from '../util/errors.ts';

export function parseOptions<T extends z.ZodType>(schema: T, args: unknown, command: string): z.infer<T> {
  const res = schema.safeParse(args);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`);
    throw new UsageError(`tongban ${command}: invalid options\n${lines.join('\n')}`);
  }
  return res.data;
}

export const listOption = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean)));

/** Years as `2019:2022` (a range) or `2019,2020,2021` (a list). */
export const yearsOption = z.string().transform((s, ctx) => {
  const range = /^\s*(\d{4})\s*:\s*(\d{4})\s*$/.exec(s);
  const ys = range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, k) => Number(range[1]) + k) : s.split(',').map((x) => Number(x.trim()));
  if (!ys.length || ys.some((y) => !Number.isInteger(y))) ctx.addIssue({ code: 'custom', message: 'years as a range 2019:2022 or a list 2021,2022' });
  return ys;
});
