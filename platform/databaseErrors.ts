/** Recognising constraint violations in Prisma errors, wherever a write may lose a race or repeat. */
import { Prisma } from "../generated/prisma/client.ts";

/**
 * The constraint a database error reports, from model queries (P2002, P2003) and from raw statements
 * (P2010, which carries the driver adapter's classification instead).
 */
function violated(error: unknown): "unique" | "foreign_key" | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return null;
  if (error.code === "P2002") return "unique";
  if (error.code === "P2003") return "foreign_key";
  if (error.code !== "P2010") return null;
  const cause = (error.meta as { driverAdapterError?: { cause?: { kind?: string; originalCode?: string } } } | undefined)?.driverAdapterError?.cause;
  if (cause?.kind === "UniqueConstraintViolation" || cause?.originalCode === "23505") return "unique";
  if (cause?.kind === "ForeignKeyConstraintViolation" || cause?.originalCode === "23503") return "foreign_key";
  return null;
}

export const isUniqueViolation = (error: unknown): boolean => violated(error) === "unique";
export const isForeignKeyViolation = (error: unknown): boolean => violated(error) === "foreign_key";
