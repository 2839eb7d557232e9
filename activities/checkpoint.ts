// A long activity's running state, kept in its artifact's staging as one file: written now and
// then (each write atomic, one at a time, in order), found by a retried attempt (the store carries
// an earlier attempt's files into the new one's staging), and dropped before the artifact is
// published. What a killed worker loses is at most the time between two saves.
import { rename } from 'node:fs/promises';
import type { ArtifactWriter } from '../storage/store.ts';
import { decodeTypedJson, encodeTypedJson } from '../storage/typedJson.ts';

/** Seconds between saves (UFG_CHECKPOINT_SECONDS, default 120). */
export const CHECKPOINT_EVERY_MS = Number(process.env.UFG_CHECKPOINT_SECONDS ?? 120) * 1000;

export class Checkpoint<T> {
  private saving: Promise<void> = Promise.resolve();
  private last = Date.now();

  constructor(
    private readonly writer: ArtifactWriter,
    private readonly name: string,
    readonly everyMs = CHECKPOINT_EVERY_MS,
  ) {}

  /** The state an earlier attempt saved, if any. */
  async load(): Promise<T | undefined> {
    return (await this.writer.hasFile(this.name)) ? decodeTypedJson<T>(await this.writer.readFile(this.name)) : undefined;
  }

  /** Whether a save is due. */
  due(): boolean {
    return Date.now() - this.last >= this.everyMs;
  }

  /** Queues a save of `state` (already a copy the caller no longer changes). */
  save(state: T): void {
    this.last = Date.now();
    this.saving = this.saving.then(() => this.writer.writeFile(this.name, encodeTypedJson(state)));
  }

  /**
   * Queues moving `file` (a finished checkpoint someone else wrote, e.g. a compute job, on the
   * staging's file system) into place as the checkpoint, in order with the other saves.
   */
  adopt(file: string): void {
    this.last = Date.now();
    this.saving = this.saving.then(() => this.writer.writeWithPath(this.name, (tmp) => rename(file, tmp)));
  }

  /** Waits for queued saves, then removes the file: the work is done. */
  async finish(): Promise<void> {
    await this.saving;
    await this.writer.removeFile(this.name);
  }
}
