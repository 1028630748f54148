/**
 * `deno task export`: write a checkpoint (ours `.safetensors`, or a `.pth` in any layout eval
 * reads) as a PyTorch `.pth` for PyTorch users: the official RUL layout that the official
 * `src/main.py` code path loads, or a plain state dict (torchvision names for the baseline).
 *
 * @module
 */
import { exportTorchCheckpoint, loadModel, TORCH_EXPORT_FORMATS } from "../lib/train/mod.ts";
import { type CliFlag, type Command, enumFlag, runCommand, TRAIN_FLAGS } from "./args.ts";

const OPTIONS = TRAIN_FLAGS.filter((o) => o.key === "model.inputSize");

const FLAGS: CliFlag[] = [
  {
    flag: "checkpoint",
    type: "string",
    help: "weights: our .safetensors checkpoint, or a .pth in any layout eval reads",
  },
  {
    flag: "format",
    type: "string",
    help: "official-pth ({model_state_dict, fc_state_dict}, as the official main.py saves) | " +
      "pth (one plain state dict)",
    defaultText: "official-pth",
  },
  { flag: "out", type: "string", help: "the .pth to write" },
  { flag: "key", type: "string", help: "state-dict key inside a .pth input", defaultText: "auto" },
];

const DESCRIPTION = [
  "Write a model as a PyTorch checkpoint, without PyTorch. The model is loaded strictly (every",
  "tensor must match) from our checkpoint or any .pth layout eval reads, then written as",
  "",
  "  official-pth  the official RUL layout (src/main.py):",
  "                torch.save({'model_state_dict': res18.state_dict(),",
  "                            'fc_state_dict': fc.state_dict()}, 'acc_888.pth')",
  "                loaded there by res18.load_state_dict(ckpt['model_state_dict']) and",
  "                fc.load_state_dict(ckpt['fc_state_dict'])",
  "  pth           one state dict: RUL names (features.*, mu.*, log_var.*, fc.*), or for a",
  "                baseline torchvision's (torchvision.models.resnet18(num_classes=7) at full width)",
  "",
  "examples:",
  "  deno task export --checkpoint runs/rul/checkpoints/best.safetensors --out acc_888.pth",
  "  deno task export --checkpoint runs/base/checkpoints/best.safetensors --format pth \\",
  "    --out baseline_resnet18.pth",
].join("\n");

async function main(args: Command): Promise<void> {
  const ckpt = args.flags.get("checkpoint");
  if (typeof ckpt !== "string") throw new Error("--checkpoint FILE is required");
  const out = args.flags.get("out");
  if (typeof out !== "string") throw new Error("--out FILE.pth is required");
  const format = enumFlag(args.flags, "format", TORCH_EXPORT_FORMATS) ?? "official-pth";
  await args.startBackend();
  const { model } = await loadModel(ckpt, {
    inputSize: args.options.get("model.inputSize") as number | undefined,
    key: args.text("key"),
  });
  try {
    const c = model.config;
    console.log(
      `model: ${c.kind}, ${c.inputSize} px, widths ${c.widths.join(",")}, ${c.numClasses} ` +
        `classes${c.kind === "rul" ? `, feature dim ${c.featureDim}` : ""}`,
    );
    const r = await exportTorchCheckpoint(model, out, format);
    const size = (Deno.statSync(out).size / 1e6).toFixed(2);
    console.log(`wrote ${out} (${format}, ${r.tensors} tensors, ${size} MB)`);
    if (format === "official-pth") {
      console.log(
        "load it as the official src/main.py does:\n" +
          `  ckpt = torch.load('${out}')\n` +
          "  res18.load_state_dict(ckpt['model_state_dict'])\n" +
          "  fc.load_state_dict(ckpt['fc_state_dict'])",
      );
      if (r.notes.length) {
        console.log(
          "unlike the unmodified official model (change res18feature / main.py to match):\n" +
            r.notes.map((n) => `  - ${n}`).join("\n"),
        );
      }
    } else {
      console.log(
        `load it with model.load_state_dict(torch.load('${out}'), strict=True)` +
          (c.kind === "baseline" ? " into torchvision's resnet18 layout" : ""),
      );
    }
  } finally {
    model.dispose();
  }
}

if (import.meta.main) {
  await runCommand({
    usage: "deno task export --checkpoint FILE --out FILE.pth [--format official-pth|pth]",
    description: DESCRIPTION,
    flags: FLAGS,
    common: ["help", "backend", "threads"],
    options: OPTIONS,
    optionsHeading: "model (only for a baseline .pth input, whose input size cannot be inferred):",
  }, main);
}
