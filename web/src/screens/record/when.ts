/** An instant as the record screen shows it: the browser's local date and time to the second. */
const FORMAT = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });

export const when = (iso: string): string => FORMAT.format(new Date(iso));
