// Inputs several commands take the same way: a matrix as a .npy path, and --device.
import { existsSync, statSync } from 'node:fs';
import { UserInputError } from '../pipelines/errors.ts';
import { readNpyMatrix } from '../pipelines/io/npy.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { configureKernels } from '../pipelines/kernels/session.ts';

/** The matrix given as `--<flag> path.npy`; every failure names the file. */
export async function readNpyOption(path: string, flag: string): Promise<Mat> {
  if (!path.toLowerCase().endsWith('.npy')) throw new UserInputError(`--${flag} must be a .npy file`, path);
  if (!existsSync(path)) throw new UserInputError('file not found', path);
  if (!statSync(path).isFile()) throw new UserInputError('not a regular file', path);
  // readNpyMatrix refuses non-2-D arrays and NaN/Inf, naming the file and the entry.
  const m = await readNpyMatrix(path);
  if (m.cols < 1) throw new UserInputError(`needs at least 1 column, has shape (${m.rows}, ${m.cols})`, path);
  return m;
}

/** Validates `--device` and points ONNX Runtime at it. */
export function applyDeviceOption(device: string | undefined): void {
  if (device === undefined) return;
  if (device !== 'cpu' && device !== 'cuda') throw new UserInputError(`--device must be cpu or cuda, got '${device}'`);
  configureKernels({ device });
}
