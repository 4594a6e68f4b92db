// Initialises every chart on the page from its <script type="application/json" data-chart="ID">
// block; no inline script anywhere (CSP script-src 'self'). The same numbers are in a table
// next to each chart.
(function () {
  "use strict";
  function money(value, locale) {
    return new Intl.NumberFormat(locale === "de" ? "de-DE" : "en-GB", { style: "currency", currency: "EUR" }).format(value);
  }
  function number(value, locale) {
    return new Intl.NumberFormat(locale === "de" ? "de-DE" : "en-GB").format(value);
  }
  function init(block) {
    var target = document.getElementById(block.getAttribute("data-chart"));
    if (!target || typeof echarts === "undefined") { return; }
    var data = JSON.parse(block.textContent);
    var locale = data.locale;
    var chart = echarts.init(target, null, { renderer: "svg", locale: locale === "de" ? "DE" : "EN" });
    // Stacked bars, and series marked `shared` (expected against actual), share one axis;
    // otherwise every series gets its own.
    var oneAxis = data.stack || data.shared;
    var axes = (oneAxis ? data.series.slice(0, 1) : data.series).map(function (s) {
      return { type: "value", axisLabel: { formatter: function (v) { return s.money ? money(v, locale) : number(v, locale); } } };
    });
    chart.setOption({
      animation: false,
      tooltip: {
        trigger: "axis",
        valueFormatter: function (v) { return number(v, locale); }
      },
      legend: { top: 0 },
      grid: { left: 90, right: 60, top: 40, bottom: 40 },
      xAxis: { type: "category", data: data.labels },
      yAxis: axes,
      series: data.series.map(function (s, idx) {
        return {
          name: s.name, type: s.kind, yAxisIndex: oneAxis ? 0 : idx, data: s.values,
          stack: data.stack ? "total" : undefined, showSymbol: data.labels.length < 30,
          tooltip: { valueFormatter: function (v) { return s.money ? money(v, locale) : number(v, locale); } }
        };
      })
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.querySelectorAll('script[type="application/json"][data-chart]').forEach(init);
  // While an analysis runs, the page looks again every few seconds until it is done.
  var reload = document.querySelector("[data-reload-seconds]");
  if (reload) {
    setTimeout(function () { window.location.reload(); }, 1000 * Number(reload.getAttribute("data-reload-seconds")));
  }
})();
