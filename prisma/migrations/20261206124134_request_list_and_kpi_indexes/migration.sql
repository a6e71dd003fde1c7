-- DropIndex
DROP INDEX "Offer_requestId_idx";

-- DropIndex
DROP INDEX "ServiceRequest_clientId_createdAt_idx";

-- CreateIndex
CREATE INDEX "Offer_requestId_outcome_idx" ON "Offer"("requestId", "outcome");

-- CreateIndex
CREATE INDEX "ServiceRequest_clientId_createdAt_id_idx" ON "ServiceRequest"("clientId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "ServiceRequest_branchId_createdAt_id_idx" ON "ServiceRequest"("branchId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "ServiceRequest_assignedAdvisorId_createdAt_id_idx" ON "ServiceRequest"("assignedAdvisorId", "createdAt", "id");
