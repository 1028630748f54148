/**
 * The error type of every data loader: it names the file (and line, where there is one).
 *
 * @module
 */

/** A data-loading error that names the offending file and, where relevant, its line. */
export class DataError extends Error {
  /** The file at fault (label list, image, IDX file, cache, folder). */
  readonly file: string;
  /** 1-based line number in `file`, when the fault is on one line. */
  readonly line?: number;

  /**
   * Builds the message `file:line: detail` (or `file: detail`).
   * @param file the file at fault
   * @param detail what is wrong
   * @param line 1-based line number, if any
   */
  constructor(file: string, detail: string, line?: number) {
    super(`${file}${line !== undefined ? `:${line}` : ""}: ${detail}`);
    this.name = "DataError";
    this.file = file;
    this.line = line;
  }
}
