/* backoffice.html: claims queue and handling, payout batches, campaigns, members, job runs, finance (finance.js).
   Routes that a back end does not have yet answer "not available" instead of breaking the page. */
(function () {
  "use strict";
  var E = App.el;
  var KEY = "backoffice-token";
  var status = document.getElementById("status");
  var token = null;
  var claimsCursor = null;
  var claimsById = {};
  var JOBS = { nightly_loyalty: "Punten en coupons (rijpen, verlopen)", nightly_tradein: "Inruil (termijnen, uitbetalingen, e-mails)" };
  var FLAGS = { DUPLICATE_PROOF: "Dubbel bewijs", IP_VELOCITY: "Veel registraties vanaf één IP-adres" };

  function call(path, options) {
    return App.api(path, Object.assign({ token: token }, options || {})).then(function (r) {
      if (r.status === 401) { App.notify(status, App.message(r), "err"); signOut(false); }
      return r;
    }, function () { App.notify(status, "De verbinding met de API is mislukt.", "err"); return { ok: false, status: 0, body: null }; });
  }
  function fail(box, r) { App.notify(box, App.message(r) + (r.body && r.body.details ? " " + details(r.body.details) : ""), "err"); }
  function details(d) {
    if (d.errors) return d.errors.map(function (e) { return e.field + ": " + App.problemText(e.problem); }).join(" ");
    return "";
  }
  function today() { return new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10); }
  function cents(text) { var n = Number(String(text).replace(",", ".")); return isNaN(n) ? null : Math.round(n * 100); }
  function flags(list) {
    return E("span", {}, ...(list || []).map(function (f) { return E("span", { class: "badge flag", text: FLAGS[f] || f }); }));
  }

  // --- tabs (WAI-ARIA tabs: arrows move between tabs) --------------------------------------------
  var tabs = Array.prototype.slice.call(document.querySelectorAll('[role="tab"]'));
  var loaders = { "tab-claims": loadClaims, "tab-payouts": loadPayouts, "tab-campaigns": loadCampaigns, "tab-members": function () {}, "tab-jobs": loadJobs, "tab-finance": function () { return window.Finance.load(call); } };
  function select(tab) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
    loaders[tab.id]();
  }
  tabs.forEach(function (tab, i) {
    tab.addEventListener("click", function () { select(tab); });
    tab.addEventListener("keydown", function (e) {
      var next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i - 1 + tabs.length) % tabs.length] : null;
      if (next) { e.preventDefault(); next.focus(); select(next); }
    });
  });

  // --- claims ------------------------------------------------------------------------------------
  var statusSelect = document.getElementById("f-status");
  Object.keys(App.STATUS).forEach(function (s) { statusSelect.appendChild(E("option", { value: s, text: App.STATUS[s] })); });

  var claimsRequest = 0; // only the newest search's answer is shown
  function loadClaims(more) {
    var mine = ++claimsRequest;
    var q = document.getElementById("f-q").value.trim();
    var params = new URLSearchParams();
    if (statusSelect.value) params.set("status", statusSelect.value);
    if (q) params.set("q", q);
    if (more && claimsCursor) params.set("cursor", claimsCursor);
    return call("/backoffice/claims?" + params.toString()).then(function (r) {
      if (mine !== claimsRequest) return;
      var body = document.getElementById("claims");
      if (!more) App.clear(body);
      if (!r.ok) { fail(status, r); return; }
      var items = r.body.items || [];
      if (!items.length && !more) body.appendChild(E("tr", {}, E("td", { colspan: "4", class: "muted", text: "Geen claims gevonden." })));
      items.forEach(function (c) {
        claimsById[c.claim_number] = c;
        body.appendChild(E("tr", {},
          E("td", {}, E("button", { type: "button", class: "secondary", "data-claim": c.claim_number, text: c.claim_number,
            "aria-label": "Claim " + c.claim_number + " openen", onclick: function () { openClaim(c.claim_number); } })),
          E("td", { text: App.STATUS[c.status] || c.status }), E("td", { text: App.dateTime(c.registered_at) }), E("td", {}, flags(c.flags))));
      });
      claimsCursor = r.body.next_cursor;
      document.getElementById("claims-more").hidden = !claimsCursor;
    });
  }
  document.getElementById("claims-filter").addEventListener("submit", function (e) { e.preventDefault(); loadClaims(false); });
  document.getElementById("claims-more").addEventListener("click", function () { loadClaims(true); });

  function openClaim(number) {
    return call("/backoffice/claims/" + encodeURIComponent(number)).then(function (r) {
      if (r.ok) { claimsById[number] = r.body; showClaim(r.body, true); return; }
      // no detail route (yet): API Gateway's / chalice local's answer has no code and no CORS (status 0)
      if ((r.missing || r.status === 0) && claimsById[number]) { App.notify(status, ""); showClaim(claimsById[number], false); return; }
      fail(status, r);
    });
  }

  function facts(pairs) {
    return E("dl", { class: "facts" }, ...pairs.filter(function (p) { return p[1] !== undefined && p[1] !== null && p[1] !== ""; })
      .reduce(function (acc, p) { acc.push(E("dt", { text: p[0] }), E("dd", { text: String(p[1]) })); return acc; }, []));
  }

  function proofView(claim, full) {
    var proof = claim.proof;
    if (!proof) return E("p", { class: "muted", text: "Nog geen aankoopbewijs ontvangen." });
    if (!proof.url) return E("p", { class: "muted", text: full ? "Het bewijs is niet te tonen." : "Het bewijs tonen kan zodra de detailroute beschikbaar is." });
    var box = E("div", { class: "proof" });
    if (/^image\//.test(proof.content_type)) box.appendChild(E("img", { src: proof.url, alt: "Aankoopbewijs van claim " + claim.claim_number }));
    else box.appendChild(E("iframe", { src: proof.url, title: "Aankoopbewijs van claim " + claim.claim_number, height: "480" }));
    box.appendChild(E("p", {}, E("a", { href: proof.url, target: "_blank", rel: "noopener", text: "Bewijs openen in een nieuw venster" }),
      proof.size_bytes ? " (" + Math.round(proof.size_bytes / 1024) + " kB)" : ""));
    return box;
  }

  function showClaim(c, full) {
    var box = App.clear(document.getElementById("claim-detail"));
    var result = E("div", { class: "notice", role: "status" });
    var p = c.participant || {}, d = c.old_device || {}, addr = p.address || {};
    box.appendChild(E("div", { class: "card" },
      E("h3", { id: "claim-heading", tabindex: "-1", text: "Claim " + c.claim_number }),
      full ? null : E("p", { class: "notice warn", text: "Detailgegevens (bewijs) zijn nog niet beschikbaar in deze API; dit zijn de gegevens uit de lijst." }),
      facts([["Status", App.STATUS[c.status] || c.status], ["Actie", c.campaign_id], ["Bon / regel", c.receipt_id + " / " + c.laptop_line_id],
        ["Aankoopdatum", App.date(c.purchase_date)], ["Inruilbedrag", App.euro(c.reward_cents)],
        ["Deelnemer", [p.first_name, p.last_name].filter(Boolean).join(" ")], ["E-mail", p.email], ["Postcode", addr.postcode],
        ["Oude laptop", [d.brand, d.model, d.screen_inches ? d.screen_inches + " inch" : ""].filter(Boolean).join(" ")],
        ["Reden", c.reason], ["Batch", c.payout_batch_id]]),
      E("p", {}, flags(c.flags)),
      E("h4", { text: "Termijnen" }),
      facts(Object.keys(c.deadlines || {}).map(function (k) { return [k.replace(/_/g, " "), App.date(c.deadlines[k])]; })),
      E("h4", { text: "Aankoopbewijs" }), proofView(c, full),
      E("h4", { text: "Verloop" }),
      E("ol", { class: "timeline" }, ...(c.timeline || []).map(function (t) {
        return E("li", { class: t.event ? "event" : "" }, E("strong", { text: t.event ? (App.EVENTS[t.event] || t.event) : (App.STATUS[t.status] || t.status) }),
          " ", E("span", { class: "muted", text: App.dateTime(t.at) }), t.reason ? E("div", { text: "Reden: " + App.reason(t.reason) }) : null);
      })),
      E("h4", { text: "Behandelen" }), result, actions(c, result)));
    document.getElementById("claim-heading").focus();
  }

  function act(c, path, body, result) {
    return call("/backoffice/claims/" + encodeURIComponent(c.claim_number) + path, { method: "POST", body: body }).then(function (r) {
      if (!r.ok) { fail(result, r); return; }
      App.notify(status, "Claim " + c.claim_number + ": " + (App.STATUS[r.body.status] || r.body.status || "bijgewerkt") + ".", "ok");
      loadClaims(false);
      return openClaim(c.claim_number);
    });
  }

  function actions(c, result) {
    var id = c.claim_number;
    var received = E("input", { type: "date", id: "recv-" + id, value: today(), max: today() });
    var reward = E("input", { type: "text", inputmode: "decimal", id: "reward-" + id, "aria-describedby": "reward-hint-" + id });
    var reason = E("textarea", { id: "reason-" + id, maxlength: "500" });
    var dq = E("textarea", { id: "dq-" + id, maxlength: "500" });
    function radio(value, label, checked) {
      return E("div", { class: "check" }, E("input", { type: "radio", name: "outcome-" + id, id: "out-" + value + "-" + id, value: value, checked: checked }),
        E("label", { for: "out-" + value + "-" + id, text: label }));
    }
    return E("div", {},
      E("form", { class: "card", onsubmit: function (e) { e.preventDefault(); act(c, "/device-received", { received_on: received.value }, result); } },
        E("div", { class: "field" }, E("label", { for: received.id, text: "Laptop ontvangen op" }), received),
        E("button", { type: "submit", text: "Laptop ontvangen" })),
      E("form", { class: "card", onsubmit: function (e) {
        e.preventDefault();
        var outcome = (e.target.querySelector("input[name='outcome-" + id + "']:checked") || {}).value;
        var body = { outcome: outcome };
        if (reason.value.trim()) body.reason = reason.value.trim();
        if (outcome === "revised") {
          var amount = cents(reward.value);
          if (amount === null || !reward.value.trim()) { App.notify(result, "Vul het aangepaste bedrag in euro's in.", "err"); reward.setAttribute("aria-invalid", "true"); reward.focus(); return; }
          body.reward_cents = amount;
        }
        if (outcome !== "approved" && !body.reason) { App.notify(result, "Geef een reden bij aanpassen of afkeuren.", "err"); reason.setAttribute("aria-invalid", "true"); reason.focus(); return; }
        act(c, "/inspection", body, result);
      } },
        E("fieldset", {}, E("legend", { text: "Keuring" }),
          radio("approved", "Goedgekeurd", true), radio("revised", "Goedgekeurd met aangepast bedrag", false), radio("rejected", "Afgekeurd", false),
          E("div", { class: "field" }, E("label", { for: reward.id, text: "Aangepast bedrag (€)" }),
            E("span", { class: "hint", id: "reward-hint-" + id, text: "Alleen bij een aangepast bedrag" }), reward),
          E("div", { class: "field" }, E("label", { for: reason.id, text: "Reden (voor de deelnemer)" }), reason)),
        E("button", { type: "submit", text: "Keuring opslaan" })),
      E("form", { class: "card", onsubmit: function (e) {
        e.preventDefault();
        if (!dq.value.trim()) { App.notify(result, "Geef een reden voor het uitsluiten.", "err"); dq.focus(); return; }
        act(c, "/disqualify", { reason: dq.value.trim() }, result);
      } },
        E("div", { class: "field" }, E("label", { for: dq.id, text: "Reden van uitsluiten (fraude)" }), dq),
        E("button", { type: "submit", class: "secondary", text: "Uitsluiten" })));
  }

  // --- payouts -----------------------------------------------------------------------------------
  function loadPayouts() {
    return call("/backoffice/payouts").then(function (r) {
      var body = App.clear(document.getElementById("payouts"));
      if (!r.ok) { fail(status, r); return; }
      var items = r.body.items || [];
      if (!items.length) body.appendChild(E("tr", {}, E("td", { colspan: "7", class: "muted", text: "Nog geen uitbetalingen." })));
      items.forEach(function (b) {
        var reason = E("input", { type: "text", id: "fail-" + b.batch_id, "aria-label": "Reden waarom batch " + b.batch_id + " mislukte" });
        var claims = Array.isArray(b.claims) ? b.claims : [];
        body.appendChild(E("tr", { "data-batch": b.batch_id },
          E("td", { text: b.batch_id }), E("td", { text: b.status || "" }), E("td", { text: App.date(b.execution_date) }),
          E("td", { text: claims.join(", ") || String(b.claims) }), E("td", { text: App.euro(b.total_cents) }),
          E("td", {}, b.file_url ? E("a", { href: b.file_url, download: b.batch_id + ".xml", text: "pain.001 downloaden" }) : ""),
          E("td", {}, b.status === "scheduled" || !b.status ? E("form", { onsubmit: function (e) {
            e.preventDefault();
            if (!reason.value.trim()) { reason.setAttribute("aria-invalid", "true"); reason.focus(); return; }
            call("/backoffice/payouts/" + encodeURIComponent(b.batch_id) + "/failed", { method: "POST", body: { reason: reason.value.trim() } })
              .then(function (x) { if (!x.ok) { fail(status, x); return; } App.notify(status, "Batch " + b.batch_id + " is als mislukt gemeld.", "ok"); loadPayouts(); });
          } }, reason, E("button", { type: "submit", class: "secondary", text: "Mislukt melden" })) : b.reason || "")));
      });
    });
  }

  // --- campaigns ---------------------------------------------------------------------------------
  var campaignForm = document.getElementById("campaign-form");
  function localInput(iso) { return iso ? iso.slice(0, 16) : ""; }
  function offsetIso(local) {
    if (!local) return undefined;
    var d = new Date(local), off = -d.getTimezoneOffset(), sign = off >= 0 ? "+" : "-";
    var pad = function (n) { return ("0" + Math.floor(Math.abs(n))).slice(-2); };
    return local + (local.length === 16 ? ":00" : "") + sign + pad(off / 60) + ":" + pad(off % 60);
  }
  function loadCampaigns() {
    return call("/backoffice/campaigns").then(function (r) {
      var body = App.clear(document.getElementById("campaigns"));
      if (!r.ok) { body.appendChild(E("tr", {}, E("td", { colspan: "5", class: "muted", text: App.message(r) }))); return; }
      (r.body.items || []).forEach(function (c) {
        var counts = c.claims || {};
        body.appendChild(E("tr", {}, E("td", { text: c.name + " (" + c.campaign_id + ")" }),
          E("td", { text: App.date(c.starts_at) + " – " + App.date(c.ends_at) }), E("td", { text: App.euro(c.reward_cents) }),
          E("td", { text: Object.keys(counts).map(function (s) { return (App.STATUS[s] || s) + ": " + counts[s]; }).join(", ") || "0" }),
          E("td", {}, E("button", { type: "button", class: "secondary", text: "Bewerken", "aria-label": "Actie " + c.campaign_id + " bewerken", onclick: function () { edit(c); } }))));
      });
    });
  }
  function edit(c) {
    var f = campaignForm.elements;
    document.getElementById("campaign-form-title").textContent = "Actie " + c.campaign_id + " bewerken";
    f.campaign_id.value = c.campaign_id; f.campaign_id.readOnly = true;
    f.name.value = c.name || ""; f.starts_at.value = localInput(c.starts_at); f.ends_at.value = localInput(c.ends_at);
    f.reward.value = (c.reward_cents / 100).toFixed(2); f.min_price.value = (c.min_line_price_cents / 100).toFixed(2);
    f.excluded_brands.value = (c.excluded_brands || []).join(", ");
    f.window_first.value = c.registration_window_days.first; f.window_last.value = c.registration_window_days.last;
    f.device_deadline_day.value = c.device_deadline_day;
    campaignForm.querySelectorAll("input[name=channel]").forEach(function (box) { box.checked = (c.channels || []).indexOf(box.value) >= 0; });
    f.name.focus();
  }
  campaignForm.addEventListener("reset", function () {
    campaignForm.elements.campaign_id.readOnly = false;
    document.getElementById("campaign-form-title").textContent = "Nieuwe actie";
  });
  campaignForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = campaignForm.elements, error = document.getElementById("campaign-error");
    error.textContent = "";
    var id = f.campaign_id.value.trim();
    if (!/^[a-z0-9-]{1,64}$/.test(id)) { error.textContent = "Actie-id: kleine letters, cijfers en streepjes."; f.campaign_id.focus(); return; }
    var body = {};
    if (f.name.value.trim()) body.name = f.name.value.trim();
    if (f.starts_at.value) body.starts_at = offsetIso(f.starts_at.value);
    if (f.ends_at.value) body.ends_at = offsetIso(f.ends_at.value);
    if (f.reward.value.trim()) body.reward_cents = cents(f.reward.value);
    if (f.min_price.value.trim()) body.min_line_price_cents = cents(f.min_price.value);
    if (f.excluded_brands.value.trim()) body.excluded_brands = f.excluded_brands.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    if (f.window_first.value && f.window_last.value) body.registration_window_days = { first: Number(f.window_first.value), last: Number(f.window_last.value) };
    if (f.device_deadline_day.value) body.device_deadline_day = Number(f.device_deadline_day.value);
    var channels = Array.prototype.filter.call(campaignForm.querySelectorAll("input[name=channel]"), function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (channels.length) body.channels = channels;
    call("/backoffice/campaigns/" + encodeURIComponent(id), { method: "PUT", body: body }).then(function (r) {
      if (!r.ok) { error.textContent = App.message(r) + " " + (r.body && r.body.details ? details(r.body.details) : ""); return; }
      App.notify(status, "Actie " + id + (r.status === 201 ? " is aangemaakt." : " is opgeslagen."), "ok");
      campaignForm.reset();
      loadCampaigns();
    });
  });

  // --- members -----------------------------------------------------------------------------------
  document.getElementById("member-search").addEventListener("submit", function (e) {
    e.preventDefault();
    var email = document.getElementById("m-email").value.trim(), card = document.getElementById("m-card").value.trim();
    var error = document.getElementById("member-error");
    error.textContent = "";
    if (!email && !card) { error.textContent = "Vul een e-mailadres of een klantenkaartnummer in."; return; }
    var q = email ? "email=" + encodeURIComponent(email) : "card_number=" + encodeURIComponent(card);
    call("/backoffice/members?" + q).then(function (r) {
      var box = App.clear(document.getElementById("members"));
      if (!r.ok) { error.textContent = App.message(r); return; }
      var items = r.body.items || [];
      if (!items.length) box.appendChild(E("p", { class: "muted", text: "Geen klant gevonden." }));
      items.forEach(function (m) { box.appendChild(memberCard(m)); });
    });
  });

  function memberCard(m) {
    var id = m.member_id, p = m.points || {};
    var result = E("div", { class: "notice", role: "status" });
    var source = E("input", { type: "text", id: "merge-" + id });
    var points = E("input", { type: "number", id: "adj-points-" + id, step: "1" });
    var why = E("input", { type: "text", id: "adj-reason-" + id, maxlength: "500" });
    var pendingKey = null; // one adjustment attempt = one adjustment_id; a retry of it reuses the id
    return E("div", { class: "card" },
      E("h3", { text: [m.first_name, m.last_name].join(" ") + " (" + id + ")" }),
      facts([["E-mail", m.email], ["Klantenkaart", m.card_number], ["Status", m.status],
        ["Beschikbaar", App.number(p.available)], ["In afwachting", App.number(p.pending)]]),
      result,
      E("form", { onsubmit: function (e) {
        e.preventDefault();
        var n = parseInt(points.value, 10);
        if (!n || !why.value.trim()) { App.notify(result, "Vul punten (niet 0) en een reden in.", "err"); return; }
        pendingKey = pendingKey || "bo-" + App.uuid();
        call("/backoffice/members/" + encodeURIComponent(id) + "/adjustments", { method: "POST",
          body: { adjustment_id: pendingKey, points: n, reason: why.value.trim() } }).then(function (r) {
          if (!r.ok) { fail(result, r); if (r.status) pendingKey = null; return; }
          pendingKey = null;
          App.notify(result, "Correctie van " + n + " punten is verwerkt.", "ok");
        });
      } }, E("div", { class: "row" },
        E("div", { class: "field" }, E("label", { for: points.id, text: "Punten (+ of −)" }), points),
        E("div", { class: "field" }, E("label", { for: why.id, text: "Reden" }), why)),
        E("button", { type: "submit", text: "Punten corrigeren" })),
      E("form", { onsubmit: function (e) {
        e.preventDefault();
        if (!source.value.trim()) { App.notify(result, "Vul het lidnummer in van het account dat wordt opgeheven.", "err"); return; }
        call("/backoffice/members/" + encodeURIComponent(id) + "/merge", { method: "POST", body: { source_member_id: source.value.trim() } })
          .then(function (r) { if (!r.ok) { fail(result, r); return; } App.notify(result, "Account " + source.value.trim() + " is samengevoegd met " + id + ".", "ok"); });
      } }, E("div", { class: "field" }, E("label", { for: source.id, text: "Samenvoegen: lidnummer van het op te heffen account" }), source),
        E("button", { type: "submit", class: "secondary", text: "Accounts samenvoegen" })));
  }

  // --- jobs --------------------------------------------------------------------------------------
  function loadJobs() {
    var box = App.clear(document.getElementById("jobs"));
    Object.keys(JOBS).forEach(function (job) {
      var date = E("input", { type: "date", id: "asof-" + job, max: today(), min: "2000-01-01", value: today() });
      var result = E("div", { class: "notice", role: "status" });
      var rows = E("tbody", { id: "runs-" + job });
      box.appendChild(E("div", { class: "card" }, E("h3", { text: JOBS[job] + " (" + job + ")" }),
        E("form", { onsubmit: function (e) {
          e.preventDefault();
          call("/backoffice/jobs/" + job + "/runs", { method: "POST", body: date.value ? { as_of: date.value } : {} }).then(function (r) {
            if (!r.ok) { fail(result, r); return; }
            App.notify(result, "Gestart voor " + App.date(r.body.as_of) + (r.body.status ? " (" + r.body.status + ")" : "") + ".", "ok");
            runs(job, rows);
          });
        } }, E("div", { class: "field" }, E("label", { for: date.id, text: "Datum (as of)" }), date), E("button", { type: "submit", text: "Nu uitvoeren" })),
        result,
        E("div", { class: "table-wrap" }, E("table", {}, E("caption", { class: "visually-hidden", text: "Recente runs van " + job }),
          E("thead", {}, E("tr", {}, ...["Run", "Datum", "Aanleiding", "Status", "Gestart", "Klaar", "Resultaat"].map(function (h) { return E("th", { scope: "col", text: h }); }))),
          rows))));
      runs(job, rows);
    });
  }
  function runs(job, rows) {
    return call("/backoffice/jobs/" + job + "/runs").then(function (r) {
      App.clear(rows);
      if (!r.ok) { rows.appendChild(E("tr", {}, E("td", { colspan: "7", class: "muted", text: r.missing || r.status === 405 ? "Het overzicht van runs is nog niet beschikbaar." : App.message(r) }))); return; }
      var items = r.body.items || [];
      if (!items.length) rows.appendChild(E("tr", {}, E("td", { colspan: "7", class: "muted", text: "Nog geen runs." })));
      items.forEach(function (run) {
        rows.appendChild(E("tr", {}, E("td", { text: run.run_id }), E("td", { text: App.date(run.as_of) }),
          E("td", { text: run.trigger === "schedule" ? "schema" : "handmatig" }), E("td", { text: run.status }),
          E("td", { text: App.dateTime(run.started_at) }), E("td", { text: App.dateTime(run.finished_at) }),
          E("td", {}, run.summary ? E("code", { text: JSON.stringify(run.summary) }) : "",
            run.failures && run.failures.length ? E("div", { class: "error", text: run.failures.length + " mislukt" }) : null)));
      });
    });
  }

  // --- sign in -----------------------------------------------------------------------------------
  function signIn(t) {
    token = t;
    sessionStorage.setItem(KEY, t);
    document.getElementById("signin").hidden = true;
    document.getElementById("app").hidden = false;
    try { document.getElementById("who").textContent = JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub; } catch (e) { /* opaque token */ }
    select(tabs[0]);
  }
  function signOut(clearStatus) {
    token = null;
    sessionStorage.removeItem(KEY);
    document.getElementById("app").hidden = true;
    document.getElementById("signin").hidden = false;
    if (clearStatus !== false) App.notify(status, "U bent uitgelogd.");
  }
  document.getElementById("logout").addEventListener("click", function () { signOut(); });
  document.getElementById("token-login").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = document.getElementById("token").value.trim();
    if (t) signIn(t);
  });
  App.takeTokenFromFragment(KEY);
  var login = App.cognitoLoginUrl();
  if (login) { document.getElementById("cognito-box").hidden = false; document.getElementById("cognito-login").href = login; }
  if (App.config.devTokens) {
    var dev = document.getElementById("dev-login");
    dev.hidden = false;
    dev.addEventListener("submit", function (e) {
      e.preventDefault();
      App.mintDevToken(document.getElementById("dev-sub").value.trim(), "backoffice").then(signIn, function () { App.notify(status, "Kon geen ontwikkeltoken maken.", "err"); });
    });
  }
  var saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved); else document.getElementById("signin").hidden = false;
})();
