/**
 * The training engine: convolution, pooling and batch-norm ops whose gradients run at forward
 * speed on the wasm and cpu backends, plus the switch that turns those gradients on or off.
 *
 * @module
 */
export * from "./conv2d.ts";
export * from "./conv_grad.ts";
export * from "./maxpool.ts";
export * from "./avgpool.ts";
export * from "./batchnorm.ts";
export * from "./fast_state.ts";
export * from "./stock_grads.ts";
export * from "./fast_slice.ts";
export { installWasmThreadShim, releaseWasmWorkers } from "./wasm_threads.ts";
export { setWasmGemm, wasmGemmActive, wasmGemmThreads } from "./wasm_gemm.ts";
export { onednnActive, onednnInfo, relu, setOnednn } from "./onednn.ts";
