/**
 * Test helper: the AUROC by its pairwise definition (the Mann-Whitney statistic), written
 * independently of lib/eval/roc.ts: the fraction of (positive, negative) pairs whose positive
 * scores higher, ties counting one half. O(n²), for test-sized tables.
 */
export function pairwiseAuroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!positive[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (positive[j]) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  if (pairs === 0) throw new Error("pairwiseAuroc: needs positives and negatives");
  return wins / pairs;
}

/** A row of a per-sample table (`samples_*.json`) as far as the audit checks need it. */
export interface AuditRow {
  index: number;
  file: string;
  label: number;
  clean_label: number;
  flipped: boolean;
  u: number;
}

/**
 * The audit's AUROC recomputed from its per-sample table: every row's file and labels must be the
 * dataset's (so u cannot be misaligned with the samples without the table showing it), and the
 * AUROC is the pairwise one of u for "flipped" computed from the dataset's own labels.
 */
export function auditAurocFromTable(
  rows: AuditRow[],
  data: { fileNames: string[]; labels: ArrayLike<number>; cleanLabels?: ArrayLike<number> },
): number {
  if (rows.length !== data.labels.length) {
    throw new Error(`table has ${rows.length} rows for ${data.labels.length} samples`);
  }
  const flipped: boolean[] = [];
  rows.forEach((r, i) => {
    const want = [i, data.fileNames[i], data.labels[i], data.cleanLabels![i]];
    const got = [r.index, r.file, r.label, r.clean_label];
    if (got.join() !== want.join()) throw new Error(`table row ${i}: ${got} vs dataset ${want}`);
    flipped.push(data.labels[i] !== data.cleanLabels![i]);
    if (r.flipped !== flipped[i]) throw new Error(`table row ${i}: flipped = ${r.flipped}`);
  });
  return pairwiseAuroc(rows.map((r) => r.u), flipped);
}
