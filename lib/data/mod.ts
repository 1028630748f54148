/**
 * Data pipeline: RAF-DB / folder / Fashion-MNIST loaders, label noise, the official transforms,
 * the prepared-dataset cache, the prefetching batch iterator and the SynthFER generator.
 * Every source yields one in-memory type, {@link ImageDataset}.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./classes.ts";
export * from "./dataset.ts";
export * from "./resize.ts";
export * from "./transforms.ts";
export * from "./codec.ts";
export * from "./label_file.ts";
export * from "./file_list.ts";
export * from "./rafdb.ts";
export * from "./image_folder.ts";
export * from "./noise.ts";
export * from "./fashion_mnist.ts";
export * from "./cache.ts";
export { type BatchSpec, fillBatch, sampleSeed, type SourceShape } from "./batch_core.ts";
export * from "./batch.ts";
export * from "./synthfer.ts";
export * from "./raf_writer.ts";
