import { createMemoryMatchingStore } from "../../matching/store/memory/store.ts";
import { storeContract } from "./support/storeContract.ts";

storeContract("matching store contract: memory", async () => createMemoryMatchingStore());
