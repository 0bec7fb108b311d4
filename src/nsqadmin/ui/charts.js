// Inline SVG drawings: the sparklines of the topic and channel pages (rates sampled by
// nsqadmin itself, GET api/rates/...) and the digits of the counter page. Functions
// here take plain numbers and return markup strings; they fetch nothing.

const WIDTH = 240;
const HEIGHT = 40;
const PAD = 2; // keeps the stroke inside the box

/**
 * A sparkline of `points` ([{t: unix seconds, v: number|null}], oldest first) as an
 * <svg class="sparkline" data-series="..."> string. Null values are gaps. The x axis
 * spans the samples' time range; the y axis runs from 0 to the largest value.
 */
export function sparkline(series, points, label) {
  const known = points.filter((p) => p.v !== null && p.v !== undefined && Number.isFinite(p.v));
  const head = `<svg class="sparkline" data-series="${series}" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${label}">`;
  if (known.length < 2) {
    return `${head}<title>${label}: not enough samples yet</title><line class="baseline" x1="0" y1="${HEIGHT - PAD}" x2="${WIDTH}" y2="${HEIGHT - PAD}"/></svg>`;
  }
  const t0 = known[0].t;
  const span = Math.max(known[known.length - 1].t - t0, 1);
  const max = Math.max(...known.map((p) => p.v));
  const min = Math.min(...known.map((p) => p.v));
  const top = max > 0 ? max : 1;
  const x = (t) => ((t - t0) / span) * WIDTH;
  const y = (v) => HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD);

  // One polyline per run of known values, so a gap stays a gap.
  const runs = [];
  let run = [];
  for (const p of points) {
    if (p.v === null || p.v === undefined || !Number.isFinite(p.v)) {
      if (run.length) runs.push(run);
      run = [];
    } else {
      run.push(`${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`);
    }
  }
  if (run.length) runs.push(run);

  const lines = runs.map((r) => {
    const area = `${r[0].split(",")[0]},${HEIGHT} ${r.join(" ")} ${r[r.length - 1].split(",")[0]},${HEIGHT}`;
    return `<polygon class="area" points="${area}"/><polyline points="${r.join(" ")}"/>`;
  });
  const last = known[known.length - 1];
  const title = `${label}: min ${round(min)}, max ${round(max)}, latest ${round(last.v)}`;
  return `${head}<title>${title}</title>${lines.join("")}<circle cx="${x(last.t).toFixed(1)}" cy="${y(last.v).toFixed(1)}" r="2"/></svg>`;
}

function round(v) {
  return Number(v.toFixed(2)).toLocaleString("en-US");
}

/**
 * A number as flip-clock style digit tiles (the counter page): "1,234" →
 * <span class="digit">1</span><span class="sep">,</span>...
 */
export function digitTiles(n) {
  return Math.floor(n).toLocaleString("en-US").split("").map((c) =>
    /\d/.test(c) ? `<span class="digit">${c}</span>` : `<span class="sep">${c}</span>`
  ).join("");
}

/**
 * Animates a number shown by `paint(value)` from `from` to `to` over `ms`
 * milliseconds at the display's frame rate; returns a function that stops it.
 */
export function animate(from, to, ms, paint) {
  const start = performance.now();
  let frame = 0;
  const step = (now) => {
    const f = Math.min((now - start) / ms, 1);
    paint(from + (to - from) * f);
    if (f < 1) frame = requestAnimationFrame(step);
  };
  frame = requestAnimationFrame(step);
  return () => cancelAnimationFrame(frame);
}
