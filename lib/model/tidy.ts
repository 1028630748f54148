/**
 * Typed wrapper of `tf.tidy` for objects with nullable tensor fields (internal helper).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * `tf.tidy` for a function returning an object of tensors, nulls and plain values: every tensor
 * reachable from the result is kept, every other intermediate is disposed.
 */
export function tidyObject<T>(fn: () => T): T {
  return tf.tidy(fn as unknown as () => tf.TensorContainer) as unknown as T;
}
