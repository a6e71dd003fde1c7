-- AlterTable
ALTER TABLE "Offer" ADD COLUMN     "stageIndex" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "ServiceRequest" ADD COLUMN     "region" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "riskLevel" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "stageStartedAt" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "Offer_advisorId_sentAt_idx" ON "Offer"("advisorId", "sentAt");

-- The risk level copied from the client must stay a valid level.
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_riskLevel_range" CHECK ("riskLevel" BETWEEN 1 AND 5);
