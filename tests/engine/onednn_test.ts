/**
 * The native CPU engine with its tensors on TF.js wasm's heap (the default store); the tests are
 * in _onednn_cases.ts.
 */
import { defineOnednnTests } from "./_onednn_cases.ts";

await defineOnednnTests("wasm");
