/**
 * PyTorch's `.detach()` / `.data` for TF.js: a value computed from a tensor that the gradient
 * does not flow through (TF.js has no stop-gradient op).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * `fn(x)` as a constant of the gradient tape: its value is `fn(x)`, its gradient with respect to
 * `x` is zero, and the ops inside `fn` are not recorded (so they need no gradient of their own,
 * e.g. `tf.topk`). `detached(x)` alone is PyTorch's `x.detach()`.
 */
export function detached<T extends tf.Tensor>(x: T, fn: (x: T) => tf.Tensor = tf.clone): T {
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: fn(args[0] as T),
    gradFunc: () => tf.zerosLike(args[0] as tf.Tensor),
  }));
  return f(x) as T;
}
