// Sweep preparation: check every input up front (so a typo fails in seconds, not hours in),
// register the external files as source artifacts, and tokenize the corpus once per model.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SweepConfig } from '../pipelines/config.ts';
import { readCorpus } from '../pipelines/corpus/readCorpus.ts';
import { UserInputError, isUserInputError } from '../pipelines/errors.ts';
import { formatPlan, onField, planModelSaes, planSweep, planWarnings } from '../pipelines/sweepPlan.ts';
import { readCategoriesFile } from '../pipelines/subspace/categories.ts';
import { estimateSweepWork } from '../pipelines/work/estimate.ts';
import { tokenizeDocs, type TokenizedDoc } from '../pipelines/tokenize/batches.ts';
import { loadTokenizer, type TokenizerOptions } from '../pipelines/tokenize/loadTokenizer.ts';
import { assertSameTokenization } from '../pipelines/tokenize/sameTokenization.ts';
import { readArrowChunk, writeArrowChunk } from '../storage/arrow.ts';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import { hashSourcePath, registerSource, sourceSpec } from '../storage/sources.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { activityProducer, activitySignal, runActivity } from './context.ts';
import { produce, sourceAt } from './storeAccess.ts';
import type { ModelSources, SourcesInput, TokenizeInput, TokenizeResult, ValidateResult } from './types.ts';

export const TOKENS_FILE = 'tokens.arrow';

/**
 * Every check that needs the files: models and layer ranges, the SAE of every layer (by the
 * hookpoint it was trained on: the plan), tokenizers agree, corpus, categories, outDir.
 */
export function validateSweepActivity() {
  return (config: SweepConfig): Promise<ValidateResult> =>
    runActivity(async () => {
      const file = config.source ?? 'sweep config';
      const plan = await planSweep(config);
      const warnings = planWarnings(plan);
      if (config.strict && warnings.length > 0) throw new UserInputError(`${warnings[0]} (strict: every SAE must be mapped by its own hookpoint)`, file);
      let docs: string[];
      try {
        docs = (await readCorpus(config.corpus.path, { textField: config.corpus.textField, numSamples: config.corpus.numSamples })).docs;
      } catch (e) {
        onField(file, 'corpus.path', e);
      }
      const tok = async (side: string) => {
        let t;
        try {
          t = await loadTokenizer(config.models[side]!.tokenizer, tokenizerOptions(config.models[side]!.addSpecialTokens));
        } catch (e) {
          onField(file, `models.${side}.tokenizer`, e);
        }
        if (t.numAddedTokens >= config.corpus.maxLength) {
          throw new UserInputError(`corpus.maxLength: ${config.corpus.maxLength} leaves no room for text: ${t.path} adds ${t.numAddedTokens} special token(s) to every document`, file);
        }
        return t;
      };
      // Every model must read the corpus as the first does (controls share their source's tokenizer).
      const [first, ...rest] = Object.keys(config.models).sort();
      const t0 = await tok(first!);
      for (const key of rest) assertSameTokenization(t0, await tok(key), docs, { maxLength: config.corpus.maxLength, keepSpecialPositions: config.corpus.keepSpecialPositions });
      if (config.categories !== undefined) {
        try {
          readCategoriesFile(config.categories);
        } catch (e) {
          onField(file, 'categories', e);
        }
      }
      try {
        await mkdir(config.outDir, { recursive: true });
      } catch (e) {
        throw new UserInputError(`outDir: cannot create ${config.outDir} (${(e as Error).message})`, file);
      }
      const work = await estimateSweepWork(config, plan, docs);
      return { numLayers: plan.numLayers, numDocs: docs.length, plan: formatPlan(plan, dirname(file), { warnings: false }), warnings, work };
    });
}

/**
 * Registers one source, telling whether the store already had it. The other model's prep
 * registering the same file at once is no race: the store's lease makes one of them wait.
 */
async function register(store: ArtifactStore, path: string, kind: string): Promise<{ id: string; reused: boolean }> {
  const id = artifactId(sourceSpec(await hashSourcePath(path, store.cacheDir)));
  const reused = await store.has(id);
  const m = await registerSource(store, path, { kind, producer: activityProducer(), signal: activitySignal() });
  return { id: m.id, reused };
}

/** Corpus, model, tokenizer and the per-layer SAE folders of one side become source artifacts. */
export function registerSourcesActivity(store: ArtifactStore) {
  return (input: SourcesInput): Promise<ModelSources> =>
    runActivity(async () => {
      const done: { id: string; reused: boolean }[] = [];
      const reg = async (path: string, kind: string) => {
        const r = await register(store, path, kind);
        done.push(r);
        return r.id;
      };
      const corpus = await reg(input.corpus.path, 'corpus');
      // The floor's random-init copy is an artifact of this store already: its id stands for the file.
      const model = input.modelId ?? (await reg(input.model.model, 'model'));
      const tokenizer = await reg(input.model.tokenizer, 'tokenizer');
      const saeByLayer: Record<string, string> = {};
      const saePathByLayer: Record<string, string> = {};
      const saeHookpoints: Record<string, string> = {};
      for (const s of await planModelSaes(input.side, input.model, input.convention, input.configFile)) {
        // The folder holding the layer's weights (with its cfg.json), not the whole release.
        const folder = dirname(s.file);
        saeByLayer[String(s.layer)] = await reg(folder, 'sae');
        saePathByLayer[String(s.layer)] = folder;
        saeHookpoints[String(s.layer)] = s.hookpoint ? `${s.hookpoint.name} → hidden_states[${s.hookpoint.trainedOn}]` : 'unknown';
      }
      const reused = done.filter((d) => d.reused).length;
      return { corpus, model, tokenizer, saeByLayer, saePathByLayer, saeHookpoints, reused, registered: done.length - reused };
    });
}

export function tokenizeSpec(input: Pick<TokenizeInput, 'corpusId' | 'tokenizerId' | 'corpus' | 'addSpecialTokens'>) {
  const { maxLength, numSamples, textField } = input.corpus;
  // null: the tokenizer's own default (a function of the tokenizer file, itself an input).
  const addSpecialTokens = input.addSpecialTokens ?? null;
  return { stage: 'tokenize', codeVersion: codeVersionFor('tokenize'), params: { maxLength, numSamples, textField, addSpecialTokens }, inputs: [input.corpusId, input.tokenizerId] };
}

/**
 * The corpus tokenized once (per tokenizer) as the model reads it, special tokens (BOS …)
 * included: doc id, token id and position of every token.
 */
export function tokenizeActivity(store: ArtifactStore) {
  return (input: TokenizeInput): Promise<TokenizeResult> =>
    runActivity(async () => {
      const { manifest, reused } = await produce(store, tokenizeSpec(input), async (writer) => {
        const corpus = await readCorpus(await sourceAt(store, input.corpusId, input.corpus.path), { textField: input.corpus.textField, numSamples: input.corpus.numSamples });
        const tokenizer = await loadTokenizer(await sourceAt(store, input.tokenizerId, input.tokenizerPath), tokenizerOptions(input.addSpecialTokens));
        const docs = tokenizeDocs(tokenizer, corpus.docs, input.corpus.maxLength);
        const n = docs.reduce((s, d) => s + d.ids.length, 0);
        if (n === 0) throw new UserInputError('corpus is empty: no document yields any token', corpus.path);
        const docId = new Int32Array(n), tokenId = new Int32Array(n), position = new Int32Array(n);
        let row = 0;
        for (const d of docs) {
          for (let p = 0; p < d.ids.length; p++, row++) {
            docId[row] = d.docId;
            tokenId[row] = d.ids[p]!;
            position[row] = p;
          }
        }
        await writer.writeWithPath(TOKENS_FILE, (tmp) =>
          writeArrowChunk(tmp, [
            { name: 'doc_id', kind: 'int32', data: docId },
            { name: 'token_id', kind: 'int32', data: tokenId },
            { name: 'position', kind: 'int32', data: position },
          ]),
        );
        let special = 0;
        for (let i = 0; i < n; i++) if (tokenizer.specialIds.has(tokenId[i]!)) special++;
        return { counts: { docs: corpus.docs.length, tokenizedDocs: docs.length, tokens: n, specialTokens: special } };
      });
      return { id: manifest.id, reused, numDocs: manifest.counts.docs ?? 0, numTokens: manifest.counts.tokens ?? 0 };
    });
}

/** loadTokenizer's options for a model's `addSpecialTokens` (absent: the tokenizer's default). */
export function tokenizerOptions(addSpecialTokens: boolean | undefined): TokenizerOptions {
  return addSpecialTokens === undefined ? {} : { addSpecialTokens };
}

/** The tokenized documents of a tokenize artifact, in corpus order. */
export async function readTokenizedDocs(store: ArtifactStore, tokensId: string): Promise<TokenizedDoc[]> {
  const chunk = await readArrowChunk(await store.localPath(tokensId, TOKENS_FILE));
  const col = (name: string): Int32Array => {
    const c = chunk.columns.get(name);
    if (!c || c.kind !== 'int32') throw new Error(`${tokensId}/${TOKENS_FILE} lacks int32 column ${name}`);
    return c.data;
  };
  const docId = col('doc_id'), tokenId = col('token_id');
  const out: TokenizedDoc[] = [];
  let start = 0;
  for (let r = 1; r <= docId.length; r++) {
    if (r === docId.length || docId[r] !== docId[start]) {
      out.push({ docId: docId[start]!, ids: tokenId.slice(start, r) });
      start = r;
    }
  }
  return out;
}
