// Pairing one layer pair as a compute job (runs whole inside a compute thread, see
// kernels/session.ts): each side's residuals are read into memory once, its SAE encodes them block
// by block inside the correlation's loop, and no kernel input or output crosses a thread. The
// correlation's running state is reported as checkpoints, so a retried attempt resumes from the
// last one instead of starting over.
import type { JobContext } from '../kernels/computeThread.ts';
import { residualsInMemory } from '../extract/readActivations.ts';
import { gatherRows } from '../similarity/matrix.ts';
import { UserInputError } from '../errors.ts';
import { loadSae, residualMatrix, saeActivationSource, type EncodeMode } from '../sae/index.ts';
import type { PairingMethod } from '../config.ts';
import { pairAndFilterLayer, type LayerPairing } from './pairLayer.ts';
import { oneToOneLayerPairs, type OneToOneLayerPairs } from './oneToOneLayer.ts';
import type { FilterMode } from './filters.ts';
import type { CorrelationCheckpoint, FeatureGroup, TopActivations } from './streamingCorrelation.ts';
import type { ActivationSource } from './activationSource.ts';
import { checkDecoderWidths } from './decoderPairing.ts';
import type { Mat } from '../kernels/gemm.ts';
import { writeTypedJsonFile } from '../../storage/typedJson.ts';

export const PAIR_JOB = new URL(import.meta.url);

export interface PairJobSide {
  /** The extraction folder, the layer in it, the SAE's path (verified by the caller), a name for errors. */
  extractDir: string;
  layer: number;
  saePath: string;
  model: string;
}

export interface PairJobArgs {
  a: PairJobSide;
  b: PairJobSide;
  /** Decoded token at every row. */
  tokens: string[];
  encode: EncodeMode;
  mode: FilterMode;
  minCorrelation: number;
  minActivations: number;
  method: PairingMethod;
  poolSize: number;
  epsilon: number;
  /**
   * The selection null's re-alignment (documentShift.ts): pair A's rows `rowsA` with B's rows
   * `rowsB` instead of row t with row t; each side's labels come from its own rows' tokens.
   */
  shift?: { rowsA: Int32Array; rowsB: Int32Array };
  /** Each side's top activations from its feature statistics (pairLayer.ts `top`); not with `shift`. */
  top?: { a: TopActivations; b: TopActivations };
  /** Feature groups (the semantic categories) paired among themselves in the same pass; not with `shift`. */
  within?: FeatureGroup[];
  /** A previous attempt's last checkpoint. */
  resume?: CorrelationCheckpoint;
  checkpointEveryMs: number;
  /**
   * Where the job writes each checkpoint (this path plus a counter; a hidden name in the
   * artifact's staging), reporting the file for the activity to move into place: a state holding
   * a GiB accumulator never crosses the thread boundary or sits in memory twice.
   */
  checkpointPath: string;
}

export interface PairJobResult {
  greedy: LayerPairing;
  oneToOne?: OneToOneLayerPairs;
  numFeaturesA: number;
  numFeaturesB: number;
}

/** What the job reports while it runs: progress, and now and then the file it wrote its state to. */
export type PairJobProgress = { blockPairs: number; total: number } | { checkpointFile: string };

/** One side of a layer pair in memory (the rows `pick` lists, else all): its residuals, SAE-encoded block by block as asked. */
export async function side(s: PairJobSide, mode: EncodeMode, pick?: Int32Array): Promise<{ source: ActivationSource; numFeatures: number; decoder: Mat; dIn: number; file: string }> {
  const all = await residualsInMemory(s.extractDir, s.layer);
  const rows = pick ? gatherRows(all, pick) : all;
  const sae = await loadSae(s.saePath);
  if (sae.dIn !== rows.cols) {
    throw new UserInputError(`SAE d_in=${sae.dIn} (${sae.source.file}) does not match the residual width ${rows.cols} of ${s.model} layer ${s.layer}`);
  }
  return {
    source: saeActivationSource(sae, residualMatrix(rows), mode),
    numFeatures: sae.numFeatures,
    decoder: { data: sae.wDec, rows: sae.numFeatures, cols: sae.dIn },
    dIn: sae.dIn,
    file: sae.source.file,
  };
}

export async function pairLayerJob(args: PairJobArgs, ctx: JobContext): Promise<PairJobResult> {
  let saved = 0;
  const a = await side(args.a, args.encode, args.shift?.rowsA);
  const b = await side(args.b, args.encode, args.shift?.rowsB);
  // Before the correlation pass: decoder cosines need one space.
  if (args.method === 'decoder') checkDecoderWidths({ ...a, model: args.a.model, layer: args.a.layer }, { ...b, model: args.b.model, layer: args.b.layer });
  const tokensA = args.shift ? Array.from(args.shift.rowsA, (r) => args.tokens[r]!) : args.tokens;
  const greedy = await pairAndFilterLayer(a.source, b.source, tokensA, {
    ...(args.shift ? { tokensB: Array.from(args.shift.rowsB, (r) => args.tokens[r]!) } : {}),
    ...(args.top && !args.shift ? { top: args.top } : {}),
    ...(args.within && !args.shift ? { within: args.within } : {}),
    mode: args.mode,
    minCorrelation: args.minCorrelation,
    minActivations: args.minActivations,
    onProgress: (blockPairs, total) => ctx.progress({ blockPairs, total } satisfies PairJobProgress),
    checkpoint: {
      ...(args.resume ? { resume: args.resume } : {}),
      save: (checkpoint) => {
        const file = `${args.checkpointPath}.${++saved}`;
        writeTypedJsonFile(file, checkpoint);
        ctx.progress({ checkpointFile: file } satisfies PairJobProgress);
      },
      everyMs: args.checkpointEveryMs,
    },
  });
  const oneToOne =
    args.method === 'greedy'
      ? undefined
      : await oneToOneLayerPairs(a.source, b.source, greedy, {
          method: args.method,
          poolSize: args.poolSize,
          epsilon: args.epsilon,
          minCorrelation: args.minCorrelation,
          ...(args.method === 'decoder' ? { decoders: { a: a.decoder, b: b.decoder } } : {}),
        });
  return { greedy, ...(oneToOne ? { oneToOne } : {}), numFeaturesA: a.numFeatures, numFeaturesB: b.numFeatures };
}
