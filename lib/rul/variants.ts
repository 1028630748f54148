/**
 * The variants of the methods and their words: which network (`kind`), how a batch is paired
 * (`pairing`), how the add-up loss weights its two terms (`addUpWeighting`) and whether the σ head
 * exists (`sigmaHead`). This is the one place that says what each variant means; the model config,
 * the training config, the CLI help and the notebooks read it from here.
 *
 * @module
 */

/**
 * Which network: RUL (ResNet-18 + μ/σ heads + classifier on mixed features), the baseline
 * (pool + Linear, cross-entropy), SCN (pool + Linear scaled by a sigmoid importance branch, rank
 * regularisation, relabelling: lib/scn) or EAC (pool + Linear, flip consistency of the class
 * activation maps: lib/eac).
 */
export const MODEL_KINDS = ["rul", "baseline", "scn", "eac"] as const;

/** One of {@link MODEL_KINDS}. */
export type ModelKind = typeof MODEL_KINDS[number];

/**
 * How a batch is paired for feature mixing (p(i) = partner of sample i): `random` = a random
 * permutation (official `torch.randperm`), `different-label` = a random sample of another label
 * (the paper's description), `hardest` = the nearest different-label sample in μ space.
 */
export const PAIRINGS = ["random", "different-label", "hardest"] as const;

/** One of {@link PAIRINGS}. */
export type PairingKind = typeof PAIRINGS[number];

/**
 * How the add-up loss weights its two cross-entropy terms: `half` = 0.5/0.5 (official),
 * `w` = w_i / (1 − w_i) (a third-party variant; the gradient then also flows into w).
 */
export const ADD_UP_WEIGHTINGS = ["half", "w"] as const;

/** One of {@link ADD_UP_WEIGHTINGS}. */
export type AddUpWeighting = typeof ADD_UP_WEIGHTINGS[number];

/** The switches of the RUL training step. */
export interface RulSwitches {
  /** Pairing rule (official: `"random"`). */
  pairing: PairingKind;
  /** Add-up loss weighting (official: `"half"`). */
  addUpWeighting: AddUpWeighting;
  /** Whether the σ (log-variance) head exists; without it w is fixed to 0.5 (official: true). */
  sigmaHead: boolean;
}

/** Everything a variant decides: the network kind and the RUL switches. */
export interface VariantSwitches extends RulSwitches {
  /** Model kind. */
  kind: ModelKind;
}

/** The official RUL: random pairing, 0.5/0.5 add-up loss, σ head. */
const OFFICIAL: Readonly<VariantSwitches> = Object.freeze({
  kind: "rul",
  pairing: "random",
  addUpWeighting: "half",
  sigmaHead: true,
});

/** The variant table: name → meaning (for `--help` and docs) and the switches it sets. */
export const VARIANT_TABLE = Object.freeze(
  {
    "rul": {
      help: "RUL as officially released (random pairing, 0.5/0.5 add-up loss, σ head)",
      switches: OFFICIAL,
    },
    "baseline": {
      help: "same backbone + global pooling + Linear, plain cross-entropy",
      switches: { ...OFFICIAL, kind: "baseline" },
    },
    "rul-pair-different": {
      help: "RUL pairing each sample with a random sample of a different label",
      switches: { ...OFFICIAL, pairing: "different-label" },
    },
    "rul-pair-hardest": {
      help: "RUL pairing each sample with its nearest different-label neighbour",
      switches: { ...OFFICIAL, pairing: "hardest" },
    },
    "rul-addup-w": {
      help: "RUL with the add-up loss weighted by w / 1-w instead of 0.5 / 0.5",
      switches: { ...OFFICIAL, addUpWeighting: "w" },
    },
    "rul-no-sigma": {
      help: "RUL without the σ head: w fixed to 0.5 (plain feature mixup + add-up loss)",
      switches: { ...OFFICIAL, sigmaHead: false },
    },
    "scn": {
      help: "SCN (Wang et al. 2020) as officially released: importance α, rank regularisation " +
        "(β 0.7, margin 0.15), relabelling from epoch 10 (margin 0.2)",
      switches: { ...OFFICIAL, kind: "scn" },
    },
    "eac": {
      help: "EAC (Zhang et al. 2022) on ResNet-18: flip consistency of the class activation maps " +
        "(λ 5) on randomly erased images",
      switches: { ...OFFICIAL, kind: "eac" },
    },
  } as const satisfies Record<string, { help: string; switches: Readonly<VariantSwitches> }>,
);

/** A training variant: the official RUL, the baseline, an RUL ablation, SCN or EAC. */
export type Variant = keyof typeof VARIANT_TABLE;

/** Every variant name, official RUL first. */
export const VARIANTS: readonly Variant[] = Object.freeze(
  Object.keys(VARIANT_TABLE) as Variant[],
);

/** What each variant means, for `--help` and docs. */
export const VARIANT_HELP: Readonly<Record<Variant, string>> = Object.freeze(
  Object.fromEntries(VARIANTS.map((v) => [v, VARIANT_TABLE[v].help])) as Record<Variant, string>,
);

/** The model switches a variant sets (a fresh object). */
export function variantSwitches(v: Variant): VariantSwitches {
  const row = VARIANT_TABLE[v];
  if (!row) throw new Error(`unknown variant "${v}"; valid variants: ${VARIANTS.join(" | ")}`);
  return { ...row.switches };
}
