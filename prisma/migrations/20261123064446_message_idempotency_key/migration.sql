-- AlterTable
ALTER TABLE "Message" ADD COLUMN     "idempotencyKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Message_requestId_senderId_idempotencyKey_key" ON "Message"("requestId", "senderId", "idempotencyKey");
