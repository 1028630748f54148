/**
 * Worker thread of {@link ForceEngine}: waits on a shared control array, then computes force
 * chunks (grabbed with an atomic counter) until the iteration's points are done.
 *
 * @module
 */
/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
import { computeForces, type ForceBuffers, STACK_SIZE } from "./kernel.ts";
import { CTRL, type SharedForceBuffers } from "./pool_protocol.ts";

self.onmessage = (e: MessageEvent<SharedForceBuffers>) => {
  const m = e.data;
  const ctrl = new Int32Array(m.ctrl);
  const b: ForceBuffers = {
    y: new Float64Array(m.y),
    nd: new Float64Array(m.nd),
    child: new Int32Array(m.child),
    order: new Int32Array(m.order),
    rowPtr: new Int32Array(m.rowPtr),
    colIdx: new Int32Array(m.colIdx),
    values: new Float64Array(m.values),
    attr: new Float64Array(m.attr),
    rep: new Float64Array(m.rep),
    z: new Float64Array(m.z),
    stack: new Int32Array(STACK_SIZE),
  };
  Atomics.add(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, CTRL.GEN, seen);
    const gen = Atomics.load(ctrl, CTRL.GEN);
    if (gen === seen) continue;
    seen = gen;
    if (Atomics.load(ctrl, CTRL.STOP)) break;
    const n = Atomics.load(ctrl, CTRL.N), chunk = Atomics.load(ctrl, CTRL.CHUNK);
    for (;;) {
      const s = Atomics.add(ctrl, CTRL.NEXT, chunk);
      if (s >= n) break;
      computeForces(b, s, Math.min(s + chunk, n));
    }
    Atomics.add(ctrl, CTRL.DONE, 1);
    Atomics.notify(ctrl, CTRL.DONE);
  }
  self.close();
};
