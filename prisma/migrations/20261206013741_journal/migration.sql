-- DropIndex
DROP INDEX "Connection_requestId_idx";

-- AlterTable
ALTER TABLE "ServiceRequest" ADD COLUMN     "liveRev" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE UNIQUE INDEX "Connection_requestId_advisorId_key" ON "Connection"("requestId", "advisorId");
