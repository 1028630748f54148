/** Tiny helper imported by the smoke notebook (checks relative imports from a notebook). */
export function add(a: number, b: number): number {
  return a + b;
}
