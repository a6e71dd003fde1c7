-- CreateIndex
CREATE INDEX "EventLog_requestId_seq_idx" ON "EventLog"("requestId", "seq");
