/**
 * eval: see the modules in this folder.
 *
 * @module
 */
export {};
