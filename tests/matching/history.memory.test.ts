import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { historyProperty } from "./support/historyProperty.ts";

historyProperty("matching invariants: memory store on embedded PGlite", {
  openDatabase: openMigratedPglite,
  openStore: async () => createMemoryMatchingStore(),
  numRuns: Number(process.env.HISTORY_RUNS ?? 1000),
});
