/**
 * zod schemas for the input files (docs/data-format.md): one schema per cell type, and for each
 * file the list of columns it must or may have. A cell schema's error message says
 * what was expected; `validateCell` turns it into a Problem.
 */
import { dayNumber } from '../util/dates.ts';
import { z } from 'zod';

import { isNumberText } from './numbers.ts';

/** '' = missing (NaN), otherwise a finite decimal number. */
const numberText = (expected: string) =>
  z
    .string()
    .trim()
    .refine((s) => s === '' || isNumberText(s), { message: expected })
    .refine((s) => s === '' || !isNumberText(s) || Number.isFinite(Number(s)), { message: `${expected} within the range of a double, about ±1.8e308 (this one overflows)` })
    .transform((s) => (s === '' ? NaN : Number(s)));

const boundedNumber = (expected: string, ok: (x: number) => boolean) =>
  numberText(expected).refine((x) => Number.isNaN(x) || ok(x), { message: expected });

/** No character below U+0020 (NUL, tab, line breaks): names and ids are single-line text. */
const noControl = (s: string): boolean => {
  for (let k = 0; k < s.length; k++) if (s.charCodeAt(k) < 0x20) return false;
  return true;
};

const cellSchemas = {
  id: z.string().trim().min(1, { message: 'a non-empty id' }).refine(noControl, { message: 'an id without control characters (NUL, tab, line breaks)' }),
  text: z.string().trim().min(1, { message: 'a non-empty text' }).refine(noControl, { message: 'a text without control characters (NUL, tab, line breaks)' }),
  optionalText: z.string().trim().refine(noControl, { message: 'a text without control characters (NUL, tab, line breaks)' }),
  number: numberText('a number'),
  positive: boundedNumber('a number > 0', (x) => x > 0),
  nonNegative: boundedNumber('a number >= 0', (x) => x >= 0),
  longitude: boundedNumber('a longitude in degrees between -180 and 180', (x) => x >= -180 && x <= 180),
  latitude: boundedNumber('a latitude in degrees between -90 and 90', (x) => x >= -90 && x <= 90),
  items: z
    .string()
    .trim()
    .refine((s) => /^\+?\d{1,15}$/.test(s) && Number(s) >= 1, { message: 'an integer from 1 to 999,999,999,999,999 (number of service items)' })
    .transform(Number),
  date: z
    .string()
    .trim()
    .refine((s) => s === '' || isCalendarDate(s), { message: 'a date YYYY-MM-DD (or an empty cell)' }),
} as const;

export type CellSchema = z.ZodType<unknown, string>;

const isCalendarDate = (s: string): boolean => dayNumber(s) !== null;

export interface ColumnRule {
  name: string;
  schema: CellSchema;
  /** the column must be present */
  required: boolean;
  /** a missing (empty) cell is an error */
  nonEmpty?: boolean;
}

export const citiesColumns: ColumnRule[] = [
  { name: 'city_id', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'city_name', schema: cellSchemas.optionalText, required: true },
  { name: 'province', schema: cellSchemas.text, required: true, nonEmpty: true },
  { name: 'population', schema: cellSchemas.positive, required: true },
  { name: 'registered_population', schema: cellSchemas.positive, required: false },
  { name: 'outflow', schema: cellSchemas.nonNegative, required: true },
  { name: 'gdp', schema: cellSchemas.positive, required: true },
  { name: 'budget_revenue', schema: cellSchemas.nonNegative, required: true },
  { name: 'budget_expenditure', schema: cellSchemas.positive, required: true },
  { name: 'gov_index', schema: cellSchemas.number, required: false },
  { name: 'lon', schema: cellSchemas.longitude, required: false },
  { name: 'lat', schema: cellSchemas.latitude, required: false },
];

export const agreementsColumns: ColumnRule[] = [
  { name: 'city_a', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'city_b', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'items', schema: cellSchemas.items, required: true, nonEmpty: true },
  { name: 'signed', schema: cellSchemas.date, required: false },
];

export const flowsColumns: ColumnRule[] = [
  { name: 'origin', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'destination', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'flow', schema: cellSchemas.nonNegative, required: true, nonEmpty: true },
];

export const regionsColumns: ColumnRule[] = [
  { name: 'city_id', schema: cellSchemas.id, required: true, nonEmpty: true },
  { name: 'region', schema: cellSchemas.text, required: true, nonEmpty: true },
];
