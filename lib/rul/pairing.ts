/**
 * Pairing of the samples of a batch for RUL's feature mixing: p(i) is the partner of sample i.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { mulberry32, type UniformRng } from "../random.ts";

/**
 * The generator of the pairing and dropout draws, seeded with an integer: {@link mulberry32} of
 * lib/random.ts under the name the method notebook uses (the trainer seeds it per epoch with
 * `mixSeed(seed, epoch, …)`).
 */
export const pairingRng: (seed: number) => UniformRng = mulberry32;

/** Labels given on the host. */
export type HostLabels = Int32Array | readonly number[];

/**
 * A pairing p (p(i) = partner of sample i): on the host, or an int32 tensor [N] on the device
 * (what {@link hardestDifferentLabelPairingOnDevice} returns where the backend cannot read
 * synchronously).
 */
export type Pairing = ArrayLike<number> | tf.Tensor1D;

/**
 * Whether the active backend can read tensors synchronously (`dataSync`). WebGPU cannot under
 * Deno (its synchronous read needs an OffscreenCanvas), so code inside `tf.variableGrads` keeps
 * its data on the device there.
 */
export function syncReadsAvailable(): boolean {
  return tf.getBackend() !== "webgpu";
}

/** A pairing as an int32 tensor [N] (a copy of a tensor pairing; the caller disposes it). */
export function pairingTensor(perm: Pairing): tf.Tensor1D {
  return perm instanceof tf.Tensor
    ? tf.cast(perm, "int32")
    : tf.tensor1d(Int32Array.from(perm as ArrayLike<number>), "int32");
}

/** Random permutation of 0..n-1 (Fisher-Yates), as the official `torch.randperm(batch)`. */
export function randomPermutation(n: number, rng: UniformRng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * For every sample, a partner drawn uniformly among the samples with a different label (the
 * paper's description). Partners are drawn independently (not a permutation). A sample whose
 * label is the only one in the batch is paired with itself (its mix is then itself).
 */
export function differentLabelPairing(labels: HostLabels, rng: UniformRng): Int32Array {
  const n = labels.length;
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cands: number[] = [];
    for (let j = 0; j < n; j++) if (labels[j] !== labels[i]) cands.push(j);
    p[i] = cands.length ? cands[Math.floor(rng() * cands.length)] : i;
  }
  return p;
}

/**
 * For every sample, the nearest (squared Euclidean distance of `features`, ties → lowest index)
 * sample with a different label: the hardest different-label neighbour. Paired with itself when
 * no other label is present. Reads `features` on the host (no gradient flows through pairing).
 */
export function hardestDifferentLabelPairing(
  features: tf.Tensor2D,
  labels: HostLabels,
): Int32Array {
  const [n, d] = features.shape;
  if (labels.length !== n) {
    throw new Error(`pairing: ${labels.length} labels for a batch of ${n} feature rows`);
  }
  const f = features.dataSync();
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < n; j++) {
      if (labels[j] === labels[i]) continue;
      let s = 0;
      for (let k = 0; k < d; k++) {
        const t = f[i * d + k] - f[j * d + k];
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = j;
      }
    }
    p[i] = best < 0 ? i : best;
  }
  return p;
}

/**
 * {@link hardestDifferentLabelPairing} computed on the device (no host read of the features):
 * d_ij = Σ_k (f_ik − f_jk)², +∞ where labels agree, p(i) = argmin_j d_ij (first minimum = lowest
 * index), p(i) = i when every label equals y_i. Returns an int32 tensor [N] (caller disposes).
 * Equal to the host version except where two distances tie to within float rounding (the sums
 * run in another order).
 */
export function hardestDifferentLabelPairingOnDevice(
  features: tf.Tensor2D,
  labels: HostLabels,
): tf.Tensor1D {
  const [n] = features.shape;
  if (labels.length !== n) {
    throw new Error(`pairing: ${labels.length} labels for a batch of ${n} feature rows`);
  }
  const same = new Uint8Array(n * n);
  const alone = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let others = 0;
    for (let j = 0; j < n; j++) {
      same[i * n + j] = labels[j] === labels[i] ? 1 : 0;
      if (labels[j] !== labels[i]) others++;
    }
    alone[i] = others === 0 ? 1 : 0;
  }
  return tf.tidy(() => {
    const diff = tf.sub(tf.expandDims(features, 1), tf.expandDims(features, 0)); // [N, N, D]
    const d = tf.sum(tf.square(diff), 2); // [N, N]
    const masked = tf.where(
      tf.tensor2d(same, [n, n], "bool"),
      tf.fill([n, n], Infinity),
      d,
    );
    const best = tf.cast(tf.argMin(masked, 1), "int32");
    const self = tf.range(0, n, 1, "int32");
    // No gradient flows through the index choice (argMin's gradient is zero).
    return tf.where(tf.tensor1d(alone, "bool"), self, best) as tf.Tensor1D;
  });
}

/** Check that `perm` is a valid partner index array for a batch of `n` (throws otherwise). */
export function validatePairing(perm: ArrayLike<number>, n: number): void {
  if (perm.length !== n) throw new Error(`pairing has length ${perm.length}, batch is ${n}`);
  for (let i = 0; i < n; i++) {
    const v = perm[i];
    if (!Number.isInteger(v) || v < 0 || v >= n) {
      throw new Error(`pairing[${i}] = ${v} is not an index in 0..${n - 1}`);
    }
  }
}
