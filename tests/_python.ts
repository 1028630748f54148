/**
 * Test helper: whether Debian's /usr/bin/python3 with PyTorch is available (CI installs
 * python3-torch through .ci/setup), for the tests that have PyTorch read what we write.
 */

/** Why PyTorch checks are skipped when {@link hasTorch} is false. */
export const TORCH_MISSING =
  "/usr/bin/python3 cannot import torch (install python3-torch, as .ci/setup does)";

let cached: boolean | undefined;

/** Whether `/usr/bin/python3 -c "import torch"` succeeds (checked once). */
export function hasTorch(): boolean {
  if (cached === undefined) {
    try {
      cached = new Deno.Command("/usr/bin/python3", {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      cached = false;
    }
  }
  return cached;
}
