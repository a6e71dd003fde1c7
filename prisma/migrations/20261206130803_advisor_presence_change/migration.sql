-- CreateTable
CREATE TABLE "AdvisorPresenceChange" (
    "id" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "presence" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AdvisorPresenceChange_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AdvisorPresenceChange_branchId_at_idx" ON "AdvisorPresenceChange"("branchId", "at");

-- CreateIndex
CREATE INDEX "AdvisorPresenceChange_advisorId_at_idx" ON "AdvisorPresenceChange"("advisorId", "at");

-- The three presences of matching/domain/types.ts (PRESENCES).
ALTER TABLE "AdvisorPresenceChange" ADD CONSTRAINT "AdvisorPresenceChange_presence_check" CHECK ("presence" IN ('available', 'away', 'offline'));
