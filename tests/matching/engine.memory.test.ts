import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import { openMigratedPglite } from "../support/databases.ts";
import { engineContract } from "./support/engineContract.ts";

engineContract("matching engine: memory store on embedded PGlite", {
  openDatabase: openMigratedPglite,
  openStore: async () => createMemoryMatchingStore(),
});
