/**
 * File formats only (nothing here knows the model): a restricted unpickler and reader for PyTorch
 * `.pth` files (zip and legacy formats; only state-dict globals allowed, nothing executed), the
 * checkpoint layouts FER code uses, a PyTorch-free `.pth` writer (`torch.save`'s zip format),
 * safetensors read/write (atomic). lib/train/weights.ts loads weights files into a model.
 *
 * ```ts
 * const { tensors, layout } = await readWeightsFile("resnet18_msceleb.pth"); // named tensors
 * const { tensors: t, metadata } = await readSafetensors("runs/x/last.safetensors");
 * await writeTorchCheckpoint("x.pth", { model: new Map([["w", TorchTensor.fromArray("float32", [2], [1, 2])]]) });
 * ```
 *
 * @module
 */
export * from "./atomic_write.ts";
export * from "./half.ts";
export * from "./pickle.ts";
export * from "./torch_tensor.ts";
export * from "./torch_globals.ts";
export * from "./torch_file.ts";
export * from "./safetensors.ts";
export * from "./checkpoint_layout.ts";
export * from "./weights.ts";
export * from "./torch_writer.ts";
