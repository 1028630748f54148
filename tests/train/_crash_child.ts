/**
 * Child process of the crash tests (tests/train/crash_test.ts): trains the tiny run of
 * {@link CRASH_CONFIG} in a run folder, fresh or resumed, and can kill itself with SIGKILL at a
 * checkpoint-write stage (through lib/train's test-only hook; on code without the hook, by
 * intercepting the rename of `last.safetensors`, the window of the old two-file write).
 *
 * usage: deno run -A tests/train/_crash_child.ts <out> <fresh|resume> [<stage>:<epoch>]
 */
import { initBackend } from "../../lib/backend.ts";
import { type TrainConfigInput, Trainer } from "../../lib/train/mod.ts";
import * as checkpoint from "../../lib/train/checkpoint.ts";
import { TINY, tinyData } from "./_tiny.ts";

/** The tiny run: 3 epochs of 40 images at 32 px (tests/train/_tiny.ts). */
export const CRASH_CONFIG: TrainConfigInput = TINY;

if (import.meta.main) {
  const [out, mode, kill] = Deno.args;
  await initBackend({ backend: "cpu" });
  const data = tinyData();
  if (kill) {
    const [stage, epoch] = kill.split(":");
    const die = () => Deno.kill(Deno.pid, "SIGKILL");
    const hook = (checkpoint as Record<string, unknown>).checkpointTestHook as
      | { onStage: ((s: string, e: number) => void) | null }
      | undefined;
    if (hook) {
      hook.onStage = (s, e) => {
        if (s === stage && e === Number(epoch)) die();
      };
    } else {
      // code without the hook: the optimiser file is renamed into place, the model file not yet
      let epochs = 0;
      const rename = Deno.rename;
      Deno.rename = async (from: string | URL, to: string | URL) => {
        if (String(to).endsWith("last.safetensors") && ++epochs === Number(epoch)) die();
        return await rename(from, to);
      };
    }
  }
  const t = await Trainer.create({
    config: mode === "resume" ? undefined : CRASH_CONFIG,
    out,
    resume: mode === "resume",
    data,
    log: (l) => console.log(l),
    progress: "silent",
  });
  console.log("RUN STARTED");
  await t.run();
  t.dispose();
  console.log("DONE");
}
