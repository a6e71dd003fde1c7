-- AlterTable
ALTER TABLE "IncentiveAward" ADD COLUMN     "requestId" TEXT;

-- CreateIndex
CREATE INDEX "IncentiveAward_requestId_idx" ON "IncentiveAward"("requestId");

-- Backfill: existing awards take the request of their event, as the KPI query used to find it.
-- Awards whose event names no request keep a null requestId (they count for no request).
UPDATE "IncentiveAward" a SET "requestId" = e."requestId"
FROM "EventLog" e
WHERE e.id = a."eventId" AND e."requestId" IS NOT NULL AND a."requestId" IS NULL;
