/* Draws every chart of the page with the vendored ECharts (static/vendor/echarts): each
   <div class="chart" data-option="ID"> takes its option from the <script type="application/json" id="ID">
   the server wrote (reporting/charts.py builds the same option for the PDF images). */
(function () {
  function draw() {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("div.chart[data-option]").forEach(function (el) {
      var src = document.getElementById(el.getAttribute("data-option"));
      if (!src) { return; }
      var h = parseInt(el.getAttribute("data-height") || "0", 10);
      if (h) { el.style.height = h + "px"; }
      var chart = echarts.init(el, null, {renderer: "svg"});
      chart.setOption(JSON.parse(src.textContent));
      el.setAttribute("data-drawn", "1");
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
