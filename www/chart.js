// One telemetry chart: a uPlot line per device over a sliding time window, with clock-time
// ticks, a legend that shows each device's latest value (or the value under the cursor), and
// shaded bands where the page was disconnected.
import uPlot from '../node_modules/uplot/dist/uPlot.esm.js';

export const WINDOW_S = 180;
const MIN_WINDOW_S = 20; // a chart with a few seconds of data still shows a readable axis
const pad = (n) => String(n).padStart(2, '0');

/** HH:MM:SS in local time. */
export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Creates a chart in `parent`. `outages()` returns [{ from, to? }] in ms (to unset: still down).
 * `saved` is an earlier chart's toJSON(), to start with the history it had.
 */
export function createChart(parent, { metric, title, unit, digits, names, colors, outages, saved }) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.dataset.metric = metric;
  const head = document.createElement('div');
  head.className = 'chart-head';
  head.innerHTML = `<h3>${title} <small>${unit}</small></h3><span class="at"></span><ul class="legend"></ul>`;
  const legend = names.map((name, i) => {
    const item = document.createElement('li');
    item.style.setProperty('--color', colors[i]);
    item.dataset.device = name;
    item.innerHTML = `<i></i><span class="name">${name}</span> <b class="value">–</b>`;
    head.querySelector('.legend').append(item);
    return item.querySelector('.value');
  });
  const host = document.createElement('div');
  host.className = 'plot';
  box.append(head, host);
  parent.append(box);

  // Aligned columns as uPlot wants them: one x per point, null in the other devices' columns.
  const xs = saved?.xs ?? [];
  const ys = names.map((name) => saved?.ys?.[name] ?? xs.map(() => null));
  let dirty = true;

  const plot = new uPlot({
    width: Math.max(200, host.clientWidth),
    height: Math.max(100, host.clientHeight),
    legend: { show: false },
    cursor: { drag: { x: false, y: false }, points: { size: 6 } },
    series: [{}, ...names.map((label, i) => ({ label, stroke: colors[i], width: 2, spanGaps: true, points: { show: false } }))],
    scales: {
      x: {
        time: true,
        range: () => {
          const now = Date.now() / 1000;
          return [Math.max(now - WINDOW_S, Math.min(xs[0] ?? now, now - MIN_WINDOW_S)), now];
        },
      },
    },
    axes: [
      {
        space: 70,
        incrs: [1, 2, 5, 10, 15, 20, 30, 60, 120, 300],
        values: (_, splits) => {
          const labels = splits.map((s) => clock(s * 1000));
          box.dataset.ticks = labels.join(' ');
          return labels;
        },
        grid: { stroke: '#eef0f4' },
        ticks: { stroke: '#dde1e8' },
      },
      { size: 48, grid: { stroke: '#eef0f4' }, ticks: { show: false } },
    ],
    hooks: {
      drawAxes: [(u) => shadeOutages(u, outages())],
      setCursor: [(u) => showLegend(u.cursor.idx)],
    },
  }, [xs, ...ys], host);
  new ResizeObserver(() => {
    plot.setSize({ width: Math.max(200, host.clientWidth), height: Math.max(100, host.clientHeight) });
  }).observe(host);

  /** Each device's value at column `idx` or the nearest before it; the latest without a cursor. */
  function showLegend(idx) {
    const at = idx ?? xs.length - 1;
    head.querySelector('.at').textContent = idx == null || !xs.length ? '' : clock(xs[idx] * 1000);
    ys.forEach((column, i) => {
      let j = at;
      while (j >= 0 && column[j] == null) j -= 1;
      legend[i].textContent = j >= 0 ? column[j].toFixed(digits) : '–';
    });
  }

  return {
    box,
    /** Inserts a point in time order (messages replayed after a cut arrive late, not lost). */
    add(device, t, v) {
      const series = names.indexOf(device);
      if (series < 0) return;
      const x = t / 1000;
      let at = xs.length;
      while (at > 0 && xs[at - 1] > x) at -= 1;
      if (at > 0 && xs[at - 1] === x && ys[series][at - 1] === v) return; // already shown
      xs.splice(at, 0, x);
      ys.forEach((column, i) => column.splice(at, 0, i === series ? v : null));
      dirty = true;
    },
    /** Redraws if anything changed, or `scroll` to move the window on. */
    draw(scroll) {
      if (!dirty && !scroll) return;
      dirty = false;
      const oldest = xs.findIndex((x) => x >= Date.now() / 1000 - WINDOW_S);
      if (oldest > 0 || (oldest < 0 && xs.length)) {
        const n = oldest < 0 ? xs.length : oldest;
        xs.splice(0, n);
        for (const column of ys) column.splice(0, n);
      }
      plot.setData([xs, ...ys]);
      box.dataset.points = String(xs.length);
      if (plot.cursor.idx == null) showLegend(null);
    },
    toJSON() {
      return { xs, ys: Object.fromEntries(names.map((name, i) => [name, ys[i]])) };
    },
  };
}

/** Shades the plot area where the page was disconnected, under the lines. */
function shadeOutages(u, outages) {
  const { ctx } = u;
  const { top, height } = u.bbox;
  const [min, max] = [u.scales.x.min, u.scales.x.max];
  ctx.save();
  for (const { from, to } of outages) {
    const a = Math.max(from / 1000, min);
    const b = Math.min((to ?? Date.now()) / 1000, max);
    if (b <= a) continue;
    const x0 = u.valToPos(a, 'x', true);
    const x1 = Math.max(u.valToPos(b, 'x', true), x0 + 2);
    ctx.fillStyle = 'rgba(161, 92, 0, 0.10)';
    ctx.fillRect(x0, top, x1 - x0, height);
    const label = `offline ${Math.round(((to ?? Date.now()) - from) / 1000)} s`;
    ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
    if (ctx.measureText(label).width + 8 < x1 - x0) {
      ctx.fillStyle = '#a15c00';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(label, (x0 + x1) / 2, top + 4);
    }
  }
  ctx.restore();
}
