/**
 * RUL training math as small named functions: uncertainty, pairing, mix weights, mixed
 * features, cross-entropy and the add-up loss (see `shared/design/rul-method.md`).
 *
 * ```ts
 * const u = uncertainty(logVar);                     // [N]
 * const perm = randomPermutation(n, pairingRng(0));  // or pass your own
 * const weights = mixWeights(u, perm);               // w = u_i/(u_i+u_p(i))
 * const logits = classifier(mixFeatures(mu, weights, perm));
 * const loss = addUpLoss(logits, labels, perm);      // 0.5/0.5 (official)
 * ```
 *
 * @module
 */
export * from "./random.ts";
export * from "./uncertainty.ts";
export * from "./pairing.ts";
export * from "./mixing.ts";
export * from "./loss.ts";
