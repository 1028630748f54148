/**
 * Class-name lists of the supported datasets.
 *
 * @module
 */

/** RAF-DB basic expression classes, in the order of labels 1-7 (stored 0-6). */
export const RAF_DB_CLASSES: readonly string[] = Object.freeze([
  "Surprise",
  "Fear",
  "Disgust",
  "Happiness",
  "Sadness",
  "Anger",
  "Neutral",
]);

/** Fashion-MNIST classes, in label order 0-9. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);
