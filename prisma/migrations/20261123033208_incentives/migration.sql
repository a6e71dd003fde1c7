-- CreateTable
CREATE TABLE "EventLog" (
    "seq" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "requestId" TEXT,
    "branchId" TEXT,
    "advisorId" TEXT,
    "data" JSONB NOT NULL,

    CONSTRAINT "EventLog_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "EventCursor" (
    "consumer" TEXT NOT NULL,
    "lastSeq" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EventCursor_pkey" PRIMARY KEY ("consumer")
);

-- CreateTable
CREATE TABLE "IncentiveAward" (
    "id" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "ruleId" TEXT NOT NULL,
    "ruleSetVersion" INTEGER NOT NULL,
    "branchId" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "reason" TEXT,
    "transactionId" TEXT,
    "at" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IncentiveAward_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Settlement" (
    "id" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "periodStart" TIMESTAMP(3) NOT NULL,
    "periodEnd" TIMESTAMP(3) NOT NULL,
    "closedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "report" JSONB NOT NULL,
    "csv" TEXT NOT NULL,

    CONSTRAINT "Settlement_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "EventLog_id_key" ON "EventLog"("id");

-- CreateIndex
CREATE INDEX "EventLog_type_at_idx" ON "EventLog"("type", "at");

-- CreateIndex
CREATE INDEX "EventLog_branchId_at_idx" ON "EventLog"("branchId", "at");

-- CreateIndex
CREATE INDEX "EventLog_at_idx" ON "EventLog"("at");

-- CreateIndex
CREATE INDEX "IncentiveAward_advisorId_at_idx" ON "IncentiveAward"("advisorId", "at");

-- CreateIndex
CREATE INDEX "IncentiveAward_branchId_at_idx" ON "IncentiveAward"("branchId", "at");

-- CreateIndex
CREATE UNIQUE INDEX "IncentiveAward_eventId_ruleId_key" ON "IncentiveAward"("eventId", "ruleId");

-- CreateIndex
CREATE UNIQUE INDEX "Settlement_branchId_periodStart_key" ON "Settlement"("branchId", "periodStart");

-- Award decisions are either posted (with their transaction) or skipped (with the reason).
ALTER TABLE "IncentiveAward" ADD CONSTRAINT "IncentiveAward_status_valid" CHECK ("status" IN ('posted', 'skipped'));
ALTER TABLE "IncentiveAward" ADD CONSTRAINT "IncentiveAward_posted_has_transaction" CHECK ("status" <> 'posted' OR "transactionId" IS NOT NULL);
ALTER TABLE "Settlement" ADD CONSTRAINT "Settlement_period_order" CHECK ("periodStart" < "periodEnd");
