/**
 * The RUL method: its variants ({@link VARIANT_TABLE}: pairing, add-up weighting, σ head), the
 * whole training step after the heads in one function ({@link rulTrainingStep}: pairing → u → w →
 * mixed features → logits → add-up loss) and its parts as small named functions. The method and
 * its formulas are described in docs/architecture.md.
 *
 * ```ts
 * const u = uncertainty(logVar);                     // [N]
 * const perm = randomPermutation(n, mulberry32(0));  // or pass your own
 * const weights = mixWeights(u, perm);               // w = u_i/(u_i+u_p(i))
 * const logits = classifier(mixFeatures(mu, weights, perm));
 * const loss = addUpLoss(logits, labels, perm);      // 0.5/0.5 (official)
 * // or all of it at once:
 * const step = rulTrainingStep({ mu, logVar, classifier, labels, rng }, variantSwitches("rul"));
 * ```
 *
 * @module
 */
export * from "./variants.ts";
export * from "./uncertainty.ts";
export * from "./pairing.ts";
export * from "./mixing.ts";
export * from "./loss.ts";
export * from "./step.ts";
