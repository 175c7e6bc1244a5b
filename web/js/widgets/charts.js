// Bar charts (the vendored Chart.js, only the pieces a bar chart needs) in the page's own
// colours: they are read from app.css's custom properties, so a light or dark scheme
// (prefers-color-scheme) is followed, also when it changes while the page is open. A chart
// is a picture of numbers shown beside it as text: the canvas is labelled as such.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LinearScale,
  Tooltip,
} from "../../vendor/chart.js/chart.js";
import { h } from "../dom.js";
import { formatMinutes } from "../format.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

const charts = new Set();
const scheme = window.matchMedia("(prefers-color-scheme: dark)");

function palette() {
  const style = getComputedStyle(document.documentElement);
  const value = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    bar: value("--accent", "#2457d6"),
    text: value("--muted", "#5b6470"),
    grid: value("--line", "#d8dde3"),
  };
}

function styled(options, colours) {
  for (const axis of ["x", "y"]) {
    options.scales[axis].ticks.color = colours.text;
    options.scales[axis].grid.color = colours.grid;
    options.scales[axis].border = { color: colours.grid };
  }
  return options;
}

scheme.addEventListener("change", () => {
  const colours = palette();
  for (const chart of charts) {
    for (const dataset of chart.data.datasets) dataset.backgroundColor = colours.bar;
    styled(chart.options, colours);
    chart.update();
  }
});

// Ticks at whole quarter hours, hours or multiples of them, at most about six of them.
const STEPS = [5, 15, 30, 60, 120, 180, 240, 360, 480, 720, 1440, 2880, 5760, 10080];

function stepFor(minutes) {
  const most = Math.max(1, ...minutes);
  return STEPS.find((step) => most / step <= 6) || Math.ceil(most / 6 / 1440) * 1440;
}

/**
 * A bar chart of minutes: `horizontal` puts the labels on the left (long project names).
 * `update(labels, minutes)` redraws it; `destroy()` frees it.
 */
export function minutesChart({ label, horizontal = false }) {
  const canvas = h("canvas", { role: "img", "aria-label": `${label} (bar chart; the same figures are in the table)` });
  const box = h("div", { class: horizontal ? "chart chart-horizontal" : "chart" }, canvas);
  let chart = null;
  const valueAxis = horizontal ? "x" : "y";

  function create(labels, minutes) {
    const colours = palette();
    const scales = { x: { ticks: {}, grid: {} }, y: { ticks: {}, grid: {} } };
    scales[valueAxis].beginAtZero = true;
    scales[valueAxis].ticks.callback = (value) => formatMinutes(Number(value));
    scales[valueAxis].ticks.precision = 0;
    scales[horizontal ? "y" : "x"].grid.display = false;
    chart = new Chart(canvas, {
      type: "bar",
      data: { labels, datasets: [{ label, data: minutes, backgroundColor: colours.bar, borderRadius: 3, maxBarThickness: 28 }] },
      options: styled(
        {
          indexAxis: horizontal ? "y" : "x",
          animation: false, // the figures are the point; nothing moves (prefers-reduced-motion too)
          responsive: true,
          maintainAspectRatio: false,
          plugins: {
            legend: { display: false },
            tooltip: { callbacks: { label: (item) => formatMinutes(item.raw) } },
          },
          scales,
        },
        colours,
      ),
    });
    charts.add(chart);
  }

  return {
    element: box,
    update(labels, minutes) {
      if (horizontal) box.style.height = `${Math.max(7, 2.2 * labels.length + 3)}rem`;
      if (!chart) create(labels, minutes);
      chart.options.scales[valueAxis].ticks.stepSize = stepFor(minutes);
      chart.data.labels = labels;
      chart.data.datasets[0].data = minutes;
      chart.update();
    },
    destroy() {
      if (chart) {
        charts.delete(chart);
        chart.destroy();
        chart = null;
      }
    },
  };
}
