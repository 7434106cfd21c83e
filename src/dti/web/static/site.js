// Client-side sorting of the ranking table (the server sorts too, for links and data twins).
document.querySelectorAll("table.ranking thead th[data-sort]").forEach(function (th, column) {
  th.addEventListener("click", function (event) {
    event.preventDefault();
    var table = th.closest("table"), body = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var descending = th.getAttribute("aria-sort") !== "descending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.value, y = b.cells[index].dataset.value;
      if (x === "" && y === "") return 0; if (x === "") return 1; if (y === "") return -1;
      return descending ? parseFloat(y) - parseFloat(x) : parseFloat(x) - parseFloat(y);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  });
});
