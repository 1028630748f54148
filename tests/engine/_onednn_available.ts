/**
 * Test helper: whether oneDNN's library (`libdnnl.so.2`, or `RUL_ONEDNN_LIB`) can be opened, as
 * the one reason a oneDNN test may skip (through tests/_deps.ts's `dependency`, so that CI fails
 * instead). Any other failure of a oneDNN test is a failure.
 */
import { dnnlLibraryName } from "../../lib/engine/onednn_ffi.ts";

/** Why oneDNN is unavailable, or null when its library opens. */
export function onednnMissing(): string | null {
  try {
    Deno.dlopen(dnnlLibraryName(), {}).close();
    return null;
  } catch (e) {
    return `${dnnlLibraryName()} cannot be opened (apt-get install libdnnl2): ${
      (e as Error).message
    }`;
  }
}
