-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "AdvisorStatus" AS ENUM ('active', 'suspended', 'offboarded');

-- CreateEnum
CREATE TYPE "LicenceKind" AS ENUM ('securities_advisory', 'fund_sales', 'futures', 'insurance');

-- CreateEnum
CREATE TYPE "LicenceStatus" AS ENUM ('active', 'suspended', 'revoked');

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('chat', 'voice', 'video');

-- CreateEnum
CREATE TYPE "RequestMode" AS ENUM ('dispatch', 'grab', 'auto');

-- CreateEnum
CREATE TYPE "FunnelPool" AS ENUM ('dedicated', 'branch', 'region', 'national');

-- CreateEnum
CREATE TYPE "RequestStatus" AS ENUM ('pending', 'offered', 'assigned', 'completed', 'cancelled', 'expired');

-- CreateEnum
CREATE TYPE "OfferKind" AS ENUM ('push', 'broadcast');

-- CreateEnum
CREATE TYPE "OfferOutcome" AS ENUM ('accepted', 'declined', 'timed_out', 'withdrawn', 'lost_race');

-- CreateEnum
CREATE TYPE "RuleSetStatus" AS ENUM ('draft', 'active', 'retired');

-- CreateEnum
CREATE TYPE "LedgerAccountKind" AS ENUM ('branch_budget', 'advisor_points', 'advisor_payable', 'platform_issuance');

-- CreateTable
CREATE TABLE "Branch" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Branch_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Advisor" (
    "id" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" "AdvisorStatus" NOT NULL DEFAULT 'active',
    "maxConcurrent" INTEGER NOT NULL,
    "languages" TEXT[],
    "suitabilityMaxRisk" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "offboardedAt" TIMESTAMP(3),

    CONSTRAINT "Advisor_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Licence" (
    "id" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "kind" "LicenceKind" NOT NULL,
    "number" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "validFrom" TIMESTAMP(3) NOT NULL,
    "validUntil" TIMESTAMP(3) NOT NULL,
    "verifiedAt" TIMESTAMP(3),
    "status" "LicenceStatus" NOT NULL DEFAULT 'active',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Licence_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Client" (
    "id" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "riskLevel" INTEGER NOT NULL,
    "language" TEXT NOT NULL,
    "dedicatedAdvisorId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Client_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ServiceRequest" (
    "id" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "requiredLicence" "LicenceKind" NOT NULL,
    "channel" "Channel" NOT NULL,
    "mode" "RequestMode" NOT NULL DEFAULT 'auto',
    "language" TEXT,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "stageIndex" INTEGER NOT NULL DEFAULT 0,
    "stage" "FunnelPool",
    "status" "RequestStatus" NOT NULL DEFAULT 'pending',
    "callbackRequested" BOOLEAN NOT NULL DEFAULT false,
    "assignedAdvisorId" TEXT,
    "deadlineAt" TIMESTAMP(3),
    "idempotencyKey" TEXT,
    "requestHash" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "offeredAt" TIMESTAMP(3),
    "assignedAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "cancelledAt" TIMESTAMP(3),
    "expiredAt" TIMESTAMP(3),

    CONSTRAINT "ServiceRequest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Offer" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "kind" "OfferKind" NOT NULL,
    "stage" "FunnelPool" NOT NULL,
    "sentAt" TIMESTAMP(3) NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "outcome" "OfferOutcome",
    "respondedAt" TIMESTAMP(3),
    "eligibility" JSONB NOT NULL,

    CONSTRAINT "Offer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Rating" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "stars" INTEGER NOT NULL,
    "comment" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Rating_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Connection" (
    "id" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "advisorId" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "openedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closedAt" TIMESTAMP(3),
    "closeReason" TEXT,

    CONSTRAINT "Connection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Message" (
    "id" TEXT NOT NULL,
    "requestId" TEXT NOT NULL,
    "senderId" TEXT NOT NULL,
    "senderRole" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "sentAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "seq" INTEGER NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "Message_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "seq" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "stream" TEXT NOT NULL,
    "streamSeq" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "AuditSeal" (
    "seq" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "upToSeq" BIGINT NOT NULL,
    "heads" JSONB NOT NULL,
    "prevHash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "AuditSeal_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "DispatchPolicy" (
    "branchId" TEXT NOT NULL,
    "policy" JSONB NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "DispatchPolicy_pkey" PRIMARY KEY ("branchId")
);

-- CreateTable
CREATE TABLE "IncentiveRuleSet" (
    "id" TEXT NOT NULL,
    "branchId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "RuleSetStatus" NOT NULL DEFAULT 'draft',
    "rules" JSONB NOT NULL,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activatedAt" TIMESTAMP(3),

    CONSTRAINT "IncentiveRuleSet_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerAccount" (
    "id" TEXT NOT NULL,
    "code" TEXT NOT NULL,
    "kind" "LedgerAccountKind" NOT NULL,
    "ownerId" TEXT NOT NULL,
    "branchId" TEXT,
    "balance" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerAccount_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerTransaction" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "branchId" TEXT,
    "memo" TEXT,
    "metadata" JSONB,
    "reversesId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerTransaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "LedgerPosting" (
    "id" BIGSERIAL NOT NULL,
    "transactionId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "amount" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "LedgerPosting_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Branch_region_idx" ON "Branch"("region");

-- CreateIndex
CREATE INDEX "Advisor_branchId_status_idx" ON "Advisor"("branchId", "status");

-- CreateIndex
CREATE INDEX "Licence_advisorId_kind_idx" ON "Licence"("advisorId", "kind");

-- CreateIndex
CREATE INDEX "Licence_validUntil_idx" ON "Licence"("validUntil");

-- CreateIndex
CREATE UNIQUE INDEX "Licence_kind_number_key" ON "Licence"("kind", "number");

-- CreateIndex
CREATE INDEX "Client_branchId_idx" ON "Client"("branchId");

-- CreateIndex
CREATE INDEX "Client_dedicatedAdvisorId_idx" ON "Client"("dedicatedAdvisorId");

-- CreateIndex
CREATE INDEX "ServiceRequest_clientId_createdAt_idx" ON "ServiceRequest"("clientId", "createdAt");

-- CreateIndex
CREATE INDEX "ServiceRequest_branchId_status_idx" ON "ServiceRequest"("branchId", "status");

-- CreateIndex
CREATE INDEX "ServiceRequest_assignedAdvisorId_status_idx" ON "ServiceRequest"("assignedAdvisorId", "status");

-- CreateIndex
CREATE INDEX "ServiceRequest_status_deadlineAt_idx" ON "ServiceRequest"("status", "deadlineAt");

-- CreateIndex
CREATE UNIQUE INDEX "ServiceRequest_clientId_idempotencyKey_key" ON "ServiceRequest"("clientId", "idempotencyKey");

-- CreateIndex
CREATE INDEX "Offer_requestId_idx" ON "Offer"("requestId");

-- CreateIndex
CREATE INDEX "Offer_advisorId_outcome_idx" ON "Offer"("advisorId", "outcome");

-- CreateIndex
CREATE INDEX "Offer_outcome_expiresAt_idx" ON "Offer"("outcome", "expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "Rating_requestId_key" ON "Rating"("requestId");

-- CreateIndex
CREATE INDEX "Rating_advisorId_createdAt_idx" ON "Rating"("advisorId", "createdAt");

-- CreateIndex
CREATE INDEX "Rating_clientId_idx" ON "Rating"("clientId");

-- CreateIndex
CREATE INDEX "Connection_clientId_idx" ON "Connection"("clientId");

-- CreateIndex
CREATE INDEX "Connection_advisorId_closedAt_idx" ON "Connection"("advisorId", "closedAt");

-- CreateIndex
CREATE INDEX "Connection_requestId_idx" ON "Connection"("requestId");

-- CreateIndex
CREATE UNIQUE INDEX "Message_requestId_seq_key" ON "Message"("requestId", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_id_key" ON "AuditEvent"("id");

-- CreateIndex
CREATE INDEX "AuditEvent_subject_idx" ON "AuditEvent"("subject");

-- CreateIndex
CREATE INDEX "AuditEvent_action_seq_idx" ON "AuditEvent"("action", "seq");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");

-- CreateIndex
CREATE UNIQUE INDEX "AuditEvent_stream_streamSeq_key" ON "AuditEvent"("stream", "streamSeq");

-- CreateIndex
CREATE INDEX "IncentiveRuleSet_branchId_status_idx" ON "IncentiveRuleSet"("branchId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "IncentiveRuleSet_branchId_version_key" ON "IncentiveRuleSet"("branchId", "version");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerAccount_code_key" ON "LedgerAccount"("code");

-- CreateIndex
CREATE INDEX "LedgerAccount_branchId_kind_idx" ON "LedgerAccount"("branchId", "kind");

-- CreateIndex
CREATE INDEX "LedgerAccount_ownerId_idx" ON "LedgerAccount"("ownerId");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerTransaction_idempotencyKey_key" ON "LedgerTransaction"("idempotencyKey");

-- CreateIndex
CREATE UNIQUE INDEX "LedgerTransaction_reversesId_key" ON "LedgerTransaction"("reversesId");

-- CreateIndex
CREATE INDEX "LedgerTransaction_branchId_createdAt_idx" ON "LedgerTransaction"("branchId", "createdAt");

-- CreateIndex
CREATE INDEX "LedgerPosting_transactionId_idx" ON "LedgerPosting"("transactionId");

-- CreateIndex
CREATE INDEX "LedgerPosting_accountId_createdAt_idx" ON "LedgerPosting"("accountId", "createdAt");

-- AddForeignKey
ALTER TABLE "Advisor" ADD CONSTRAINT "Advisor_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Licence" ADD CONSTRAINT "Licence_advisorId_fkey" FOREIGN KEY ("advisorId") REFERENCES "Advisor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Client" ADD CONSTRAINT "Client_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Client" ADD CONSTRAINT "Client_dedicatedAdvisorId_fkey" FOREIGN KEY ("dedicatedAdvisorId") REFERENCES "Advisor"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_assignedAdvisorId_fkey" FOREIGN KEY ("assignedAdvisorId") REFERENCES "Advisor"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Offer" ADD CONSTRAINT "Offer_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ServiceRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Offer" ADD CONSTRAINT "Offer_advisorId_fkey" FOREIGN KEY ("advisorId") REFERENCES "Advisor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rating" ADD CONSTRAINT "Rating_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ServiceRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rating" ADD CONSTRAINT "Rating_advisorId_fkey" FOREIGN KEY ("advisorId") REFERENCES "Advisor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Rating" ADD CONSTRAINT "Rating_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_clientId_fkey" FOREIGN KEY ("clientId") REFERENCES "Client"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_advisorId_fkey" FOREIGN KEY ("advisorId") REFERENCES "Advisor"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Connection" ADD CONSTRAINT "Connection_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ServiceRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Message" ADD CONSTRAINT "Message_requestId_fkey" FOREIGN KEY ("requestId") REFERENCES "ServiceRequest"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DispatchPolicy" ADD CONSTRAINT "DispatchPolicy_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "IncentiveRuleSet" ADD CONSTRAINT "IncentiveRuleSet_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerAccount" ADD CONSTRAINT "LedgerAccount_branchId_fkey" FOREIGN KEY ("branchId") REFERENCES "Branch"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerTransaction" ADD CONSTRAINT "LedgerTransaction_reversesId_fkey" FOREIGN KEY ("reversesId") REFERENCES "LedgerTransaction"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerPosting" ADD CONSTRAINT "LedgerPosting_transactionId_fkey" FOREIGN KEY ("transactionId") REFERENCES "LedgerTransaction"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "LedgerPosting" ADD CONSTRAINT "LedgerPosting_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "LedgerAccount"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Invariants PostgreSQL holds for us. Prisma cannot express CHECK constraints and ignores them when diffing.
ALTER TABLE "Advisor" ADD CONSTRAINT "Advisor_suitabilityMaxRisk_range" CHECK ("suitabilityMaxRisk" BETWEEN 1 AND 5);
ALTER TABLE "Advisor" ADD CONSTRAINT "Advisor_maxConcurrent_positive" CHECK ("maxConcurrent" BETWEEN 1 AND 100);
ALTER TABLE "Client" ADD CONSTRAINT "Client_riskLevel_range" CHECK ("riskLevel" BETWEEN 1 AND 5);
ALTER TABLE "Licence" ADD CONSTRAINT "Licence_validity_order" CHECK ("validFrom" < "validUntil");
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_priority_range" CHECK ("priority" BETWEEN 0 AND 9);
ALTER TABLE "ServiceRequest" ADD CONSTRAINT "ServiceRequest_assignee_present" CHECK ("status" NOT IN ('assigned', 'completed') OR "assignedAdvisorId" IS NOT NULL);
ALTER TABLE "Offer" ADD CONSTRAINT "Offer_expiry_after_send" CHECK ("expiresAt" > "sentAt");
ALTER TABLE "Rating" ADD CONSTRAINT "Rating_stars_range" CHECK ("stars" BETWEEN 1 AND 5);
ALTER TABLE "LedgerPosting" ADD CONSTRAINT "LedgerPosting_amount_nonzero" CHECK ("amount" <> 0);
ALTER TABLE "LedgerAccount" ADD CONSTRAINT "LedgerAccount_budget_never_negative" CHECK ("kind" <> 'branch_budget' OR "balance" >= 0);
ALTER TABLE "DispatchPolicy" ADD CONSTRAINT "DispatchPolicy_version_positive" CHECK ("version" >= 1);
