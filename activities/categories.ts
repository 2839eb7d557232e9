// The keyword categories a sweep uses: the user's file when the config names one, else the
// paper's built-ins. Resolved to the keyword lists themselves so artifact ids change with them.
import { builtinCategories, readCategoriesFile, type Categories } from '../pipelines/subspace/categories.ts';

export function sweepCategories(file: string | undefined): Categories {
  return file === undefined ? builtinCategories() : readCategoriesFile(file);
}
