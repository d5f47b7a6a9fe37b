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
