/**
 * Checkpoint I/O: a restricted unpickler and reader for PyTorch `.pth` files (zip and legacy
 * formats; only state-dict globals allowed, nothing executed), a PyTorch-free `.pth` writer
 * (`torch.save`'s zip format), safetensors read/write (atomic), and model checkpoints built on
 * them.
 *
 * ```ts
 * const model = createModel({ kind: "rul" });
 * await loadTorchWeights(model, "resnet18_msceleb.pth"); // backbone; prints the report
 * await saveModelCheckpoint("runs/x/last.safetensors", model, { epoch: 3 });
 * const { tensors, metadata } = await readSafetensors("runs/x/last.safetensors");
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
export * from "./weights.ts";
export * from "./torch_writer.ts";
