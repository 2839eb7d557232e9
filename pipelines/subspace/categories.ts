// Semantic categories: named keyword lists. The paper's built-ins ship as JSON data next to this
// file; users add their own in a JSON file {"Category": ["keyword", ...]}, validated here.
import { existsSync, readFileSync } from 'node:fs';
import { UserInputError } from '../errors.ts';
import type { CategoryFeatures } from './pairWithinCategory.ts';

/** Category name → keywords (matched case-insensitively against whole-word labels). */
export type Categories = Record<string, string[]>;

const BUILTIN_FILE = new URL('./builtinCategories.json', import.meta.url);

/** Check the shape of parsed JSON and normalise keywords (trimmed, lower case, de-duplicated). */
export function validateCategories(value: unknown, file?: string): Categories {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserInputError('categories must be a JSON object {"Category": ["keyword", ...]}', file);
  }
  const out: Categories = {};
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new UserInputError('categories file defines no category', file);
  for (const [name, keywords] of entries) {
    if (name.trim() === '') throw new UserInputError('a category has an empty name', file);
    if (!Array.isArray(keywords)) throw new UserInputError(`category "${name}" must be a list of keywords`, file);
    const seen = new Set<string>();
    keywords.forEach((k, i) => {
      if (typeof k !== 'string') throw new UserInputError(`category "${name}": keyword ${i} is not a string`, file);
      const w = k.trim().toLowerCase();
      if (w === '') throw new UserInputError(`category "${name}": keyword ${i} is empty`, file);
      seen.add(w);
    });
    if (seen.size === 0) throw new UserInputError(`category "${name}" has no keywords`, file);
    out[name] = [...seen];
  }
  return out;
}

/** Time, Calendar, People/Roles, Nature, Emotions, MonthNames, Countries, Biology. */
export function builtinCategories(): Categories {
  return validateCategories(JSON.parse(readFileSync(BUILTIN_FILE, 'utf8')), BUILTIN_FILE.pathname);
}

/** Read a user's categories file; every problem is a UserInputError naming the file. */
export function readCategoriesFile(path: string): Categories {
  if (!existsSync(path)) throw new UserInputError('categories file not found', path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserInputError(`not valid JSON (${(e as Error).message.split('\n')[0]})`, path);
  }
  return validateCategories(parsed, path);
}

/** Features whose labels include one of the category's keywords (case-insensitive), ascending; a feature without a label (null) is in none. */
export function featuresInCategory(labels: readonly (readonly string[] | null)[], keywords: readonly string[]): number[] {
  const kw = new Set(keywords.map((k) => k.toLowerCase()));
  const out: number[] = [];
  labels.forEach((words, f) => {
    if (words !== null && words.some((w) => kw.has(w.toLowerCase()))) out.push(f);
  });
  return out;
}

/** Each category's features on both sides, from each side's labels, in the categories' order. */
export function categoryFeatures(labelsA: readonly (readonly string[] | null)[], labelsB: readonly (readonly string[] | null)[], categories: Categories): CategoryFeatures[] {
  return Object.values(categories).map((keywords) => ({ featuresA: featuresInCategory(labelsA, keywords), featuresB: featuresInCategory(labelsB, keywords) }));
}
