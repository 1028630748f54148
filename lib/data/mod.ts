/**
 * data: see the modules in this folder.
 *
 * @module
 */
export {};
