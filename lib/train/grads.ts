/**
 * {@link variableGradsFreeing}: `tf.variableGrads` with the same values, bit for bit, and a lower
 * memory peak.
 *
 * TF.js's backward pass (tfjs-core's `backpropagateGradients`, called by `ENGINE.gradients`) keeps
 * every output gradient it has used and every activation the tape saved until the whole backward
 * pass ends, so its peak holds all activations AND all activation gradients at once, about twice
 * what PyTorch's autograd holds (which frees a node's saved tensors and incoming gradients as soon
 * as the node's backward has run). At 224 px, batch 64 that was most of the difference between our
 * 4.3 GB peak RSS and PyTorch 2.x's 2.2-2.5 GB (docs/engine.md, issue 27). This function walks the
 * same tape in the same order with the same gradient functions and the same accumulation (so every
 * float is the same) and, after each node, disposes the node's saved tensors (its own clones, made
 * by `saveTensorsForBackwardMode`) and the output gradients it consumed, unless one of them is also
 * a gradient still held for a later node.
 *
 * Written here because tfjs-core exports neither its tape filter nor its backward walk (and has no
 * option to free as it goes); it uses the engine's tape API (`startTape`, `endTape`, `scopedRun`,
 * `state.activeTape`), which `ENGINE.gradients` itself uses. Higher-order gradients (a call inside
 * another gradient computation) fall back to `tf.variableGrads`: the outer tape needs the tensors.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** A node of TF.js's gradient tape (tfjs-core `tape.ts` TapeNode). */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: tf.Tensor[]) => Record<string, () => tf.Tensor>;
}

/** The engine members this module uses (public in JavaScript, not in tfjs-core's typings). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
}

/**
 * The nodes of `tape` on a path from one of `xs` to `y`, in tape order, each with its inputs
 * pruned to those that depend on `xs` (tfjs-core's `getFilteredNodesXToY`, which it does not
 * export: the same rule).
 */
export function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodeFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodeFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodeToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) toY.add(t.id);
      nodeToY.add(node.id);
    }
  }
  return tape.filter((n) => nodeFromX.has(n.id) && nodeToY.has(n.id)).map((n) => ({
    ...n,
    inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))),
  }));
}

/**
 * `tf.variableGrads(f, varList)` (trainable variables of `varList`; the loss `f` returns must be
 * a scalar) with the same value and gradients, freeing each node's saved tensors and consumed
 * output gradients during the backward walk (see the module doc).
 */
export function variableGradsFreeing(
  f: () => tf.Scalar,
  varList: tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const engine = tf.engine() as unknown as EngineInternals;
  if (engine.state.gradientDepth > 0) return tf.variableGrads(f, varList);
  const vars = varList.filter((v) => v.trainable);
  if (vars.length === 0) {
    throw new Error(`variableGradsFreeing: none of the ${varList.length} variables is trainable`);
  }
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy("forward", f),
  );
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    throw new Error(
      `variableGradsFreeing: the loss must be a scalar tensor, got ${
        y instanceof tf.Tensor ? `rank ${(y as tf.Tensor).rank}` : typeof y
      }`,
    );
  }
  const tape = engine.state.activeTape ?? [];
  const nodes = nodesFromXsToY(tape, vars, y);
  if (nodes.length === 0) {
    throw new Error("variableGradsFreeing: no variable is connected to the loss");
  }
  return engine.tidy("backward", () => {
    const acc = new Map<number, tf.Tensor>([[y.id, tf.onesLike(y)]]);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (!node.gradient) {
        throw new Error(
          `Cannot compute gradient: gradient function not found for ${node.kernelName}.`,
        );
      }
      const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
      const inputGrads = node.gradient(dys as tf.Tensor[]);
      for (const [name, x] of Object.entries(node.inputs)) {
        if (!(name in inputGrads)) {
          throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
        }
        const dx = tf.tidy(() => inputGrads[name]());
        if (dx.dtype !== "float32" || !tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `gradient of ${node.kernelName}'s input ${name}: ${dx.dtype} [${dx.shape}] for an ` +
              `input of shape [${x.shape}]`,
          );
        }
        const cur = acc.get(x.id);
        if (cur === undefined) acc.set(x.id, dx);
        else {
          acc.set(x.id, tf.add(cur, dx));
          cur.dispose();
        }
      }
      // This node is done: its outputs' gradients and its saved tensors are used by no other
      // node (each node saves its own clones), unless a gradient function returned one of them
      // as an input gradient, which the map still holds.
      const done = node.outputs.map((o) => acc.get(o.id));
      for (const o of node.outputs) acc.delete(o.id);
      const held = new Set(acc.values());
      for (const t of [...done, ...node.saved ?? []]) if (t && !held.has(t)) t.dispose();
    }
    const grads: tf.NamedTensorMap = {};
    for (const v of vars) {
      const g = acc.get(v.id);
      if (g) grads[v.name] = g;
    }
    // as tf.variableGrads: a non-trainable variable of the list gets null
    for (const v of varList) if (!v.trainable) grads[v.name] = null as unknown as tf.Tensor;
    // as ENGINE.gradients: the tape's saved tensors are released (most already are)
    for (const node of tape) for (const t of node.saved ?? []) t.dispose();
    engine.state.activeTape = null;
    return { value: y as tf.Scalar, grads };
  });
}
