/* backoffice.html, tab "Financiën" (issue 16): the liability of a night (GET /backoffice/reports/liability)
   drawn as plain SVG by this file (no chart library), and what the nightly reconciliation found
   (GET /backoffice/reconciliation). Finance.load(call) is called by backoffice.js with its API call. */
(function () {
  "use strict";
  var E = App.el;
  var NS = "http://www.w3.org/2000/svg";
  var KINDS = {
    pending: "Saldo punten in afwachting klopt niet met de punten", available: "Saldo beschikbare punten klopt niet met de punten",
    lot_without_history: "Punten zonder herkomst in de historie", claim_status_not_timeline: "Status claim wijkt af van de tijdlijn",
    claim_illegal_transition: "Tijdlijn claim bevat een niet-toegestane stap", claim_not_in_batch: "Claim staat niet in haar uitbetalingsbatch",
    claim_batch_status: "Status batch past niet bij de claim", batch_amount: "Totaal batch is niet de som van haar claims"
  };

  function svg(tag, attrs) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
    return node;
  }

  function count(n, one, many) { return App.number(n) + " " + (n === 1 ? one : many); }

  /** The parts of the liability in euro: one horizontal bar each, scaled to the largest. */
  function parts(report) {
    var rate = report.cents_per_point, p = report.points;
    return [
      { id: "pending", label: "Punten in afwachting", amount: Math.round(p.pending * rate), detail: count(p.pending, "punt", "punten") },
      { id: "available", label: "Punten beschikbaar", amount: Math.round(p.available * rate), detail: count(p.available, "punt", "punten") },
      { id: "coupons", label: "Coupons uitgegeven, niet ingewisseld", amount: report.coupons.value_cents, detail: count(report.coupons.issued_unredeemed, "coupon", "coupons") },
      { id: "claims", label: "Claims goedgekeurd, niet betaald", amount: report.claims.value_cents, detail: count(report.claims.approved_unpaid, "claim", "claims") }
    ];
  }

  function barChart(title, rows) {
    var width = 720, left = 300, right = 110, rowHeight = 34, top = 8;
    var height = top * 2 + rows.length * rowHeight;
    var max = Math.max.apply(null, rows.map(function (r) { return r.amount; }).concat([1]));
    var id = "chart-title-" + title.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    var chart = svg("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", "aria-labelledby": id },
      svg("title", { id: id, text: title }));
    rows.forEach(function (r, i) {
      var y = top + i * rowHeight, w = Math.max(r.amount > 0 ? 2 : 0, Math.round((width - left - right) * r.amount / max));
      chart.appendChild(svg("g", { class: "bar", "data-part": r.id, "data-cents": String(r.amount) },
        svg("text", { x: left - 8, y: y + 21, "text-anchor": "end", text: r.label }),
        svg("rect", { x: left, y: y + 6, width: w, height: rowHeight - 12, rx: 3 }),
        svg("text", { x: left + w + 6, y: y + 21, text: App.euro(r.amount) })));
    });
    return chart;
  }

  function showReport(box, report) {
    App.clear(box);
    var rows = parts(report);
    var months = report.points.available_by_expiry_month || {};
    box.appendChild(E("div", { class: "card" },
      E("h3", { text: "Verplichtingen op " + App.date(report.date) + (report.complete ? "" : " (nog niet compleet)") }),
      E("p", {}, "Totaal: ", E("strong", { id: "liability-total", text: App.euro(report.total_value_cents) }),
        " — punten gewaardeerd tegen " + String(report.cents_per_point).replace(".", ",") + " cent per punt."),
      E("figure", {}, barChart("Verplichtingen per soort op " + App.date(report.date), rows),
        E("figcaption", { class: "muted", text: "Punten tegen het couponbedrag, coupons tegen hun waarde, claims tegen hun inruilbedrag." })),
      E("div", { class: "table-wrap" }, E("table", { id: "liability-table" },
        E("caption", { class: "visually-hidden", text: "Verplichtingen op " + App.date(report.date) }),
        E("thead", {}, E("tr", {}, E("th", { scope: "col", text: "Soort" }), E("th", { scope: "col", text: "Aantal" }), E("th", { scope: "col", text: "Waarde" }))),
        E("tbody", {}, ...rows.map(function (r) { return E("tr", {}, E("th", { scope: "row", text: r.label }), E("td", { text: r.detail }), E("td", { text: App.euro(r.amount) })); }),
          ...Object.keys(months).map(function (m) {
            return E("tr", {}, E("th", { scope: "row", text: "waarvan beschikbaar, vervalt in " + m }), E("td", { text: count(months[m], "punt", "punten") }),
              E("td", { text: App.euro(Math.round(months[m] * report.cents_per_point)) }));
          })))),
      report.csv_url ? E("p", {}, E("a", { href: report.csv_url, text: "CSV downloaden (" + report.date + ")" })) : null));
  }

  function subject(f) {
    if (f.member_id) return "Lid " + f.member_id + (f.lot_id ? " (" + f.lot_id + ")" : "");
    if (f.claim_number) return "Claim " + f.claim_number + (f.batch_id ? " (batch " + f.batch_id + ")" : "");
    return "Batch " + f.batch_id;
  }
  function shown(value, kind) { return kind === "batch_amount" ? App.euro(value) : String(value === "" ? "—" : value); }

  function loadFindings(call, day, rows, more, cursor) {
    var path = "/backoffice/reconciliation?date=" + encodeURIComponent(day) + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
    return call(path).then(function (r) {
      if (!cursor) App.clear(rows);
      more.hidden = true;
      if (!r.ok) { rows.appendChild(E("tr", {}, E("td", { colspan: "5", class: "error", text: App.message(r) }))); return; }
      var items = r.body.items || [];
      if (!items.length && !cursor) rows.appendChild(E("tr", {}, E("td", { colspan: "5", class: "muted", text: "Geen afwijkingen gevonden in deze nacht." })));
      items.forEach(function (f) {
        rows.appendChild(E("tr", {}, E("td", { text: subject(f) }), E("td", { text: KINDS[f.kind] || f.kind }),
          E("td", { text: shown(f.expected, f.kind) }), E("td", { text: shown(f.actual, f.kind) }), E("td", { text: App.dateTime(f.found_at) })));
      });
      if (r.body.next_cursor) {
        more.hidden = false;
        more.onclick = function () { loadFindings(call, day, rows, more, r.body.next_cursor); };
      }
    });
  }

  function show(call, day) {
    var box = document.getElementById("liability");
    var note = document.getElementById("finance-status");
    App.notify(note, "Rapport van " + App.date(day) + " wordt geladen…");
    var rows = App.clear(document.getElementById("findings"));
    var more = document.getElementById("findings-more");
    return Promise.all([
      call("/backoffice/reports/liability?date=" + encodeURIComponent(day)).then(function (r) {
        if (r.ok) { showReport(box, r.body); App.notify(note, "Rapport van " + App.date(day) + " getoond.", "ok"); return; }
        App.clear(box);
        App.notify(note, r.status === 404 ? "Er is nog geen rapport van " + App.date(day) + ": de nachtelijke taken van die datum zijn niet gedraaid." : App.message(r), r.status === 404 ? "" : "err");
      }),
      loadFindings(call, day, rows, more, null)
    ]);
  }

  var started = false;
  function load(call) {
    var form = document.getElementById("finance-form");
    var input = document.getElementById("finance-date");
    if (!started) {
      started = true;
      form.addEventListener("submit", function (e) { e.preventDefault(); if (input.value) show(call, input.value); });
    }
    if (!input.value) input.value = new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
    return show(call, input.value);
  }

  window.Finance = { load: load, parts: parts };
})();
