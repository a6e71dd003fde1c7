-- Append-only audit trail and messages. UPDATE is always refused. DELETE is refused unless the
-- retention purge turned the transaction-local setting advisor_dispatch.purge on with SET LOCAL.
CREATE OR REPLACE FUNCTION "audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND coalesce(current_setting('advisor_dispatch.purge', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% on "%" is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "AuditEvent_append_only" BEFORE UPDATE OR DELETE ON "AuditEvent" FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
CREATE TRIGGER "AuditSeal_append_only" BEFORE UPDATE OR DELETE ON "AuditSeal" FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
CREATE TRIGGER "Message_append_only" BEFORE UPDATE OR DELETE ON "Message" FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
