/**
 * The training engine: convolution, pooling and batch-norm ops whose gradients run at forward
 * speed on the wasm and cpu backends.
 *
 * @module
 */
export * from "./conv2d.ts";
export * from "./maxpool.ts";
export * from "./batchnorm.ts";
