/** The "Download CSV" button of a settlement: the payroll CSV fetched with the session's token. */
import { useMutation } from "@tanstack/react-query";
import { useSession } from "../../auth/session.tsx";
import { ErrorNotice } from "../../components/ErrorNotice.tsx";
import { downloadWithToken } from "./download.ts";
import { settlementPath } from "./queries.ts";

export function DownloadCsv({ branchId, settlementId, periodKey }: { branchId: string; settlementId: string; periodKey: string }) {
  const { token } = useSession();
  const download = useMutation({
    mutationFn: () => downloadWithToken(`${settlementPath(branchId, settlementId)}?format=csv`, token, `settlement-${branchId}-${periodKey}.csv`),
  });
  return (
    <span className="download">
      <button type="button" onClick={() => download.mutate()} disabled={download.isPending}>
        {download.isPending ? "Downloading…" : "Download CSV"}
        <span className="visually-hidden"> of period {periodKey}</span>
      </button>
      {download.data && (
        <span role="status" className="muted">
          {" "}
          Saved {download.data}
        </span>
      )}
      {download.error && <ErrorNotice error={download.error} title="The CSV could not be downloaded" />}
    </span>
  );
}
