// Totals of a delivery form as they are typed: each [data-count] input adds to its row's
// <output data-sum-of=ROW> and to the total; Persian and Arabic-Indic digits and
// thousands separators read as the server reads them. The server shows the same totals
// when it draws the form again; this only keeps them current while typing.
(function () {
  "use strict";
  var persian = document.documentElement.lang === "fa";
  function value(text) {
    var latin = text.replace(/[\u06F0-\u06F9]/g, function (d) { return d.charCodeAt(0) - 0x06F0; })
                    .replace(/[\u0660-\u0669]/g, function (d) { return d.charCodeAt(0) - 0x0660; })
                    .replace(/[,\u066C\u060C' \u00A0\u202F\u2009]/g, "");
    return /^[0-9]+$/.test(latin) ? parseInt(latin, 10) : 0;
  }
  function shown(n) {
    var text = n.toLocaleString("en-US");
    if (!persian) return text;
    return text.replace(/,/g, "\u066C").replace(/[0-9]/g, function (d) { return String.fromCharCode(0x06F0 + Number(d)); });
  }
  function update(box) {
    var sums = { all: 0 };
    box.querySelectorAll("input[data-count]").forEach(function (input) {
      var n = value(input.value.trim());
      var row = input.getAttribute("data-row");
      sums[row] = (sums[row] || 0) + n;
      if (row !== "all") sums.all += n;
    });
    box.querySelectorAll("output[data-sum-of]").forEach(function (out) {
      out.textContent = shown(sums[out.getAttribute("data-sum-of")] || 0);
    });
  }
  document.querySelectorAll("[data-sums]").forEach(function (box) {
    box.addEventListener("input", function () { update(box); });
  });
})();
