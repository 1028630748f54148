/**
 * RUL's uncertainty-weighted feature mixing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type Pairing, pairingTensor } from "./pairing.ts";

/**
 * Rows of `x` re-ordered by `perm` (row i = x[perm[i]]). Done as a one-hot matrix product rather
 * than `gather` because the wasm backend has no kernel for gather's gradient (and N is small).
 */
export function permuteRows<T extends tf.Tensor1D | tf.Tensor2D>(x: T, perm: Pairing): T {
  return tf.tidy(() => {
    const n = x.shape[0];
    const pm = tf.cast(tf.oneHot(pairingTensor(perm), n), "float32");
    if (x.rank === 1) return tf.reshape(tf.matMul(pm, tf.reshape(x, [n, 1])), [n]) as T;
    return tf.matMul(pm, x as tf.Tensor2D) as T;
  });
}

/** Mix weights of a pairing. */
export interface MixWeights {
  /** w_i = u_i / (u_i + u_p(i)): the share of sample i itself. */
  w: tf.Tensor1D;
  /** u_p(i) / (u_i + u_p(i)) (= 1 − w_i, computed as the official code does). */
  wPartner: tf.Tensor1D;
}

/** w_i = u_i/(u_i+u_p(i)) and the partner share, from uncertainties `u` [N] and pairing `perm`. */
export function mixWeights(u: tf.Tensor1D, perm: Pairing): MixWeights {
  return tf.tidy(() => {
    const up = permuteRows(u, perm);
    const sum = tf.add(u, up);
    return { w: tf.div(u, sum) as tf.Tensor1D, wPartner: tf.div(up, sum) as tf.Tensor1D };
  });
}

/** Fixed mix weights 0.5/0.5 (RUL without the σ head: plain feature mixup). */
export function halfMixWeights(n: number): MixWeights {
  return { w: tf.fill([n], 0.5) as tf.Tensor1D, wPartner: tf.fill([n], 0.5) as tf.Tensor1D };
}

/** mixed_i = w_i·μ_i + wPartner_i·μ_p(i) for features `mu` [N,D]. */
export function mixFeatures(
  mu: tf.Tensor2D,
  weights: MixWeights,
  perm: Pairing,
): tf.Tensor2D {
  return tf.tidy(() => {
    const n = mu.shape[0];
    const a = tf.mul(tf.reshape(weights.w, [n, 1]), mu);
    const b = tf.mul(tf.reshape(weights.wPartner, [n, 1]), permuteRows(mu, perm));
    return tf.add(a, b) as tf.Tensor2D;
  });
}
