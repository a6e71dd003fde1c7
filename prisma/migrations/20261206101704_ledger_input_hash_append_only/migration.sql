-- AlterTable
ALTER TABLE "LedgerTransaction" ADD COLUMN     "inputHash" TEXT;

-- Append-only ledger: a posted transaction and its postings never change, and corrections are
-- reversals (incentives/ledger/post.ts). An account is never deleted, and of its columns only the
-- balance moves, and only by the ledger's own posting statement.
CREATE OR REPLACE FUNCTION "ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% on "%" is not allowed: the ledger is append-only (post a reversal instead)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE OR REPLACE FUNCTION "ledger_account_balance_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW."id", NEW."code", NEW."kind", NEW."ownerId", NEW."branchId", NEW."createdAt")
     IS NOT DISTINCT FROM (OLD."id", OLD."code", OLD."kind", OLD."ownerId", OLD."branchId", OLD."createdAt") THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'UPDATE on "LedgerAccount" may move the balance only: an account''s identity never changes' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "LedgerTransaction_append_only" BEFORE UPDATE OR DELETE ON "LedgerTransaction" FOR EACH ROW EXECUTE FUNCTION "ledger_append_only"();
CREATE TRIGGER "LedgerPosting_append_only" BEFORE UPDATE OR DELETE ON "LedgerPosting" FOR EACH ROW EXECUTE FUNCTION "ledger_append_only"();
CREATE TRIGGER "LedgerAccount_no_delete" BEFORE DELETE ON "LedgerAccount" FOR EACH ROW EXECUTE FUNCTION "ledger_append_only"();
CREATE TRIGGER "LedgerAccount_balance_only" BEFORE UPDATE ON "LedgerAccount" FOR EACH ROW EXECUTE FUNCTION "ledger_account_balance_only"();
