/**
 * Batch iterator over an {@link ImageDataset}: seeded per-epoch shuffling, the official train
 * augmentation (or the test transform), and prefetch of the next batches in Web Workers while the
 * caller trains, so input preparation runs on another core. Yields `{x, y, yClean?, index}`; the
 * caller disposes `x` and `y`.
 *
 * Results do not depend on the number of workers: sample augmentation is seeded by
 * (seed, epoch, position in the epoch).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type BatchSpec, fillBatch } from "./batch_core.ts";
import type { ImageDataset } from "./dataset.ts";
import { mixSeed, permutation } from "../random.ts";
import type { ErasingOptions } from "./transforms.ts";

/** One batch. `x` and `y` are tensors the caller must dispose. */
export interface Batch {
  /** Images, NHWC float32, normalised. */
  x: tf.Tensor4D;
  /** Training labels (possibly noisy), int32. */
  y: tf.Tensor1D;
  /** Clean labels, when the dataset has them. */
  yClean?: Int32Array;
  /** Dataset indices of the samples. */
  index: Int32Array;
}

/** Options of {@link BatchLoader}. */
export interface BatchLoaderOptions {
  /** Samples per batch. */
  batchSize: number;
  /** Output (model) size; images are resized to size × size. */
  size: number;
  /** Official train augmentation (true) or test transform (false). */
  augment: boolean;
  /** Shuffle each epoch (default: same as augment). */
  shuffle?: boolean;
  /** Seed of shuffling and augmentation (default 0). */
  seed?: number;
  /** Drop the last incomplete batch (default false). */
  dropLast?: boolean;
  /** Batches prepared ahead (default 2). */
  prefetch?: number;
  /** Worker threads preparing batches (default 1; 0 = prepare on the calling thread). */
  workers?: number;
  /** Output channels (default 3; grey images are replicated). */
  outChannels?: number;
  /** Normalisation mean (ImageNet). */
  mean?: readonly number[];
  /** Normalisation std (ImageNet). */
  std?: readonly number[];
  /** RandomErasing options, or false to disable. */
  erasing?: ErasingOptions | false;
  /** Gaussian-noise variance on the 0-255 scale (30). */
  noiseVariance?: number;
}

interface Pending {
  resolve: (x: Float32Array) => void;
  reject: (e: Error) => void;
}

/** Shares pixels with workers: a SharedArrayBuffer view, copied once into one if needed. */
function sharedPixels(p: Uint8Array): Uint8Array {
  if (typeof SharedArrayBuffer !== "undefined" && p.buffer instanceof SharedArrayBuffer) return p;
  const s = new Uint8Array(new SharedArrayBuffer(p.length));
  s.set(p);
  return s;
}

/** Seeded, augmenting, prefetching batch iterator; call {@link BatchLoader.close} when done. */
export class BatchLoader {
  /** The dataset iterated. */
  readonly dataset: ImageDataset;
  /** Options in effect. */
  readonly options: Readonly<BatchLoaderOptions>;
  #spec: BatchSpec;
  #workers: Worker[] = [];
  #pending = new Map<number, Pending>();
  #nextId = 0;
  #rr = 0;
  #closed = false;

  /** Creates the loader and starts its workers. */
  constructor(ds: ImageDataset, o: BatchLoaderOptions) {
    if (!(o.batchSize >= 1)) throw new Error(`batchSize must be ≥ 1, got ${o.batchSize}`);
    if (!(o.size >= 1)) throw new Error(`size must be ≥ 1, got ${o.size}`);
    this.dataset = ds;
    this.options = { ...o };
    this.#spec = {
      size: o.size,
      augment: o.augment,
      seed: o.seed ?? 0,
      outChannels: o.outChannels ?? 3,
      mean: o.mean,
      std: o.std,
      erasing: o.erasing,
      noiseVariance: o.noiseVariance,
    };
    // Without Web Workers (a runtime that lacks them), batches are prepared on the calling thread.
    const nw = typeof Worker === "undefined" ? 0 : (o.workers ?? 1);
    if (nw > 0) {
      const pixels = sharedPixels(ds.pixels);
      const src = { height: ds.height, width: ds.width, channels: ds.channels };
      for (let k = 0; k < nw; k++) {
        const w = new Worker(new URL("./batch_worker.ts", import.meta.url).href, {
          type: "module",
        });
        w.onmessage = (ev: MessageEvent) => {
          const p = this.#pending.get(ev.data.id);
          if (!p) return;
          this.#pending.delete(ev.data.id);
          if (ev.data.error) p.reject(new Error(`batch worker: ${ev.data.error}`));
          else p.resolve(ev.data.x);
        };
        w.onerror = (ev: ErrorEvent) => {
          ev.preventDefault();
          for (const p of this.#pending.values()) {
            p.reject(new Error(`batch worker: ${ev.message}`));
          }
          this.#pending.clear();
        };
        w.postMessage({ type: "init", pixels, src, spec: this.#spec });
        this.#workers.push(w);
      }
    }
  }

  /** Worker threads actually preparing batches (0 = inline on the calling thread). */
  get workerCount(): number {
    return this.#workers.length;
  }

  /** Number of batches per epoch. */
  get numBatches(): number {
    const n = this.dataset.n, b = this.options.batchSize;
    return this.options.dropLast ? Math.floor(n / b) : Math.ceil(n / b);
  }

  /** Sample order of an epoch (a seeded permutation when shuffling, else 0..n-1). */
  order(epoch: number): Int32Array {
    const n = this.dataset.n;
    const shuffle = this.options.shuffle ?? this.options.augment;
    if (shuffle) return permutation(n, mixSeed(this.#spec.seed, 0x5eed, epoch));
    return Int32Array.from({ length: n }, (_, i) => i);
  }

  #prepare(indices: Int32Array, epoch: number, position: number): Promise<Float32Array> {
    if (this.#workers.length === 0) {
      const oc = this.#spec.outChannels!;
      const x = new Float32Array(indices.length * this.#spec.size * this.#spec.size * oc);
      fillBatch(this.dataset.pixels, this.dataset, indices, epoch, position, this.#spec, x);
      return Promise.resolve(x);
    }
    const id = this.#nextId++;
    const w = this.#workers[this.#rr++ % this.#workers.length];
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      w.postMessage({ type: "batch", id, indices, epoch, position });
    });
  }

  /**
   * Iterates the batches of epoch `epoch` (0-based). Keeps `prefetch` batches in preparation
   * ahead of the one handed out. Each yielded batch's tensors belong to the caller.
   */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    if (this.#closed) throw new Error("BatchLoader is closed");
    const order = this.order(epoch);
    const b = this.options.batchSize;
    const nb = this.numBatches;
    const depth = this.#workers.length === 0 ? 0 : Math.max(1, this.options.prefetch ?? 2);
    const queue: { idx: Int32Array; x: Promise<Float32Array> }[] = [];
    let next = 0;
    const enqueue = () => {
      const idx = order.slice(next * b, Math.min((next + 1) * b, order.length));
      queue.push({ idx, x: this.#prepare(idx, epoch, next * b) });
      next++;
    };
    const ds = this.dataset;
    const oc = this.#spec.outChannels!;
    try {
      while (next < nb && queue.length <= depth) enqueue();
      while (queue.length > 0 || next < nb) {
        if (queue.length === 0) enqueue();
        const { idx, x: px } = queue.shift()!;
        const x = await px;
        while (next < nb && queue.length < depth) enqueue();
        const y = new Int32Array(idx.length);
        for (let k = 0; k < idx.length; k++) y[k] = ds.labels[idx[k]];
        let yClean: Int32Array | undefined;
        if (ds.cleanLabels) {
          yClean = new Int32Array(idx.length);
          for (let k = 0; k < idx.length; k++) yClean[k] = ds.cleanLabels[idx[k]];
        }
        const batch: Batch = {
          x: tf.tensor4d(x, [idx.length, this.#spec.size, this.#spec.size, oc]),
          y: tf.tensor1d(y, "int32"),
          yClean,
          index: idx,
        };
        yield batch;
      }
    } finally {
      // Abandoned prefetches: let them finish and drop the results (nothing tensor-backed yet).
      for (const q of queue) q.x.catch(() => {});
    }
  }

  /** Terminates the workers. The loader cannot be used afterwards. */
  close(): void {
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    for (const p of this.#pending.values()) p.reject(new Error("BatchLoader closed"));
    this.#pending.clear();
  }

  /** Same as {@link BatchLoader.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
