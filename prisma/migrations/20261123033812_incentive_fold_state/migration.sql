-- CreateTable
CREATE TABLE "IncentiveFoldState" (
    "branchId" TEXT NOT NULL,
    "state" JSONB NOT NULL,
    "lastSeq" BIGINT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "IncentiveFoldState_pkey" PRIMARY KEY ("branchId")
);
