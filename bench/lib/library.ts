/**
 * The library as its users run it: the compiled package in `dist/` (built by `npm run bench`'s
 * `prebench` step and by `npm test`), not the TypeScript sources through the tsx loader. The
 * loader's transform wraps every function it creates in a naming helper and runs the module hooks
 * in the process; measured on B, the worker drained ~5% slower from the sources. Types come from
 * the sources, so the harness still type-checks without a build.
 */
import type * as Lib from "../../src/index.js";
import type { Logger } from "../../src/index.js";

const lib = (await import(new URL("../../dist/index.js", import.meta.url).href)) as typeof Lib;

export const { Tasklane, serve, FatalError } = lib;
export type Tasklane = Lib.Tasklane;
export type OpenOptions = Lib.OpenOptions;

/** A logger that drops everything: benchmarks measure the engine, not log output. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
