/** Inline SVG charts for the simulation's HTML report: no script, no fonts or styles fetched. */

export interface Series {
  name: string;
  values: Array<number | null>;
}

const WIDTH = 720;
const HEIGHT = 260;
const PAD = { left: 56, right: 12, top: 12, bottom: 36 };
/** Colour-blind-safe (Okabe-Ito). */
export const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"];

export const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function axes(max: number, format: (v: number) => string, labels: string[], step: number): string[] {
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${escapeHtml(format((max * i) / 4))}</text>`);
  }
  labels.forEach((label, i) => {
    if (i % step) return;
    const x = PAD.left + (i + 0.5) * ((WIDTH - PAD.left - PAD.right) / labels.length);
    parts.push(`<text x="${x}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="11">${escapeHtml(label)}</text>`);
  });
  return parts;
}

function legend(names: string[]): string {
  return `<p class="legend">${names.map((n, i) => `<span><i style="background:${COLOURS[i % COLOURS.length]}"></i>${escapeHtml(n)}</span>`).join(" ")}</p>`;
}

/** One line per series over the labels (hours); a null value breaks the line. */
export function lineChart(title: string, labels: string[], series: Series[], format: (v: number) => string, fixedMax?: number): string {
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = fixedMax ?? Math.max(1e-9, ...all) * 1.05;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (i + 0.5) * (plotW / labels.length);
  const y = (v: number) => PAD.top + plotH - (plotH * v) / max;
  const lines = series.map((s, k) => {
    const segments: string[] = [];
    let open = false;
    s.values.forEach((v, i) => {
      if (v === null) {
        open = false;
        return;
      }
      segments.push(`${open ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      open = true;
    });
    return `<path d="${segments.join("")}" fill="none" stroke="${COLOURS[k % COLOURS.length]}" stroke-width="2"><title>${escapeHtml(s.name)}</title></path>`;
  });
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${[...axes(max, format, labels, 2), ...lines].join("")}</svg>${legend(series.map((s) => s.name))}</figure>`;
}

/** Groups of bars (one group per label, one bar per series); stacked when `stacked`. */
export function barChart(title: string, labels: string[], series: Series[], format: (v: number) => string, stacked = false): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const totals = labels.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(1e-9, ...(stacked ? totals : series.flatMap((s) => s.values.map((v) => v ?? 0)))) * 1.05;
  const groupW = plotW / labels.length;
  const barW = stacked ? groupW * 0.6 : (groupW * 0.8) / series.length;
  const bars: string[] = [];
  labels.forEach((label, i) => {
    let base = 0;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      const h = (plotH * v) / max;
      const left = PAD.left + i * groupW + (stacked ? groupW * 0.2 : groupW * 0.1 + k * barW);
      const top = PAD.top + plotH - h - (stacked ? (plotH * base) / max : 0);
      bars.push(
        `<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[k % COLOURS.length]}"><title>${escapeHtml(`${label}, ${s.name}: ${format(v)}`)}</title></rect>`,
      );
      if (stacked) base += v;
    });
  });
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${[...axes(max, format, labels, 1), ...bars].join("")}</svg>${legend(series.map((s) => s.name))}</figure>`;
}
