/**
 * Starts one throwaway PostgreSQL cluster for the whole run (each test then works in a schema of
 * its own). `TASKLANE_TEST_DATABASE_URL` uses an existing server instead. Without PostgreSQL the
 * PostgreSQL half of the suite is skipped locally and fails the run in CI.
 */
import type { TestProject } from "vitest/node";
import { findPgBin, startPgCluster, type PgCluster } from "./pg-cluster.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Connection string of the test PostgreSQL server, or null when there is none. */
    pgUrl: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: PgCluster | undefined;
  let url = process.env.TASKLANE_TEST_DATABASE_URL ?? null;
  if (!url) {
    if (findPgBin()) {
      cluster = await startPgCluster();
      url = cluster.url;
    } else if (process.env.CI) {
      throw new Error("CI: PostgreSQL server binaries not found; install them (apt-get install -y postgresql) or set TASKLANE_PG_BIN");
    } else {
      console.warn("\n[tasklane] PostgreSQL not found: running the PGlite suite only (apt-get install -y postgresql to run both)\n");
    }
  }
  project.provide("pgUrl", url);
  return async () => {
    await cluster?.stop();
  };
}
