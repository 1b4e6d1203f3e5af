/* mijn.html: sign in, points, conversion into coupons (with an Idempotency-Key), coupons as QR
   codes, receipts ("Kassabon registreren") and the points history. */
(function () {
  "use strict";
  var E = App.el;
  var KEY = "member-token";
  var status = document.getElementById("status");
  var token = null;
  var historyCursor = null;
  var TIERS = App.config.couponTiers || [{ amount_cents: 2000, points: 1000 }, { amount_cents: 4000, points: 2000 }];
  var TYPES = { earned: "Verdiend", matured: "Beschikbaar geworden", spent: "Ingewisseld", expired: "Verlopen",
    reversed: "Teruggedraaid (retour)", adjusted: "Correctie" };
  var COUPON_STATUS = { active: "Geldig", used: "Gebruikt", expired: "Verlopen" };

  function cause(text) {
    var c = String(text || ""), rest = c.slice(c.indexOf(":") + 1);
    if (c.indexOf("receipt:") === 0) return "Aankoop, bon " + rest;
    if (c.indexOf("return:") === 0) return "Retour " + rest;
    if (c.indexOf("coupon:") === 0) return "Coupon " + rest;
    if (c.indexOf("merge:") === 0) return "Samengevoegd account";
    if (c.indexOf("adjustment:") === 0) return "Correctie door de klantenservice";
    return { welcome: "Welkomstpunten", marketing_consent: "Aanmelding nieuwsbrief", debt_settlement: "Verrekening openstaande punten",
      expiry: "Verlopen na de geldigheidsduur" }[c] || c;
  }

  function call(path, options) {
    return App.api(path, Object.assign({ token: token }, options || {})).then(function (r) {
      if (r.status === 401 || (r.body && r.body.code === "ACCOUNT_MERGED")) {
        App.notify(status, App.message(r), "err");
        signOut(false);
      }
      return r;
    });
  }

  function signIn(t) {
    token = t;
    sessionStorage.setItem(KEY, t);
    load();
  }

  function signOut(clearStatus) {
    token = null;
    sessionStorage.removeItem(KEY);
    document.getElementById("account").hidden = true;
    document.getElementById("join").hidden = true;
    document.getElementById("signin").hidden = false;
    if (clearStatus !== false) App.notify(status, "U bent uitgelogd.");
  }

  function load() {
    document.getElementById("signin").hidden = true;
    return call("/members/me").then(function (r) {
      if (r.status === 404) { document.getElementById("join").hidden = false; return; }
      if (!r.ok) { if (r.status !== 401) App.notify(status, App.message(r), "err"); return; }
      document.getElementById("join").hidden = true;
      document.getElementById("account").hidden = false;
      profile(r.body);
      return Promise.all([coupons(), receipts(), history(false)]);
    }, function () { App.notify(status, "De verbinding met onze server is mislukt.", "err"); });
  }

  function profile(me) {
    document.getElementById("member-name").textContent = [me.first_name, me.last_name].join(" ");
    document.getElementById("card-number").textContent = me.card_number || "";
    var p = me.points || {};
    document.getElementById("points-available").textContent = App.number(p.available);
    document.getElementById("points-pending").textContent = App.number(p.pending);
    var expiring = p.expiring || [];
    document.getElementById("points-expiring-total").textContent = App.number(expiring.reduce(function (s, e) { return s + e.points; }, 0));
    var list = App.clear(document.getElementById("expiring"));
    expiring.forEach(function (e) {
      list.appendChild(E("li", { text: App.number(e.points) + " punten vervallen na " + App.date(e.expires_on) }));
    });
    var tiers = App.clear(document.getElementById("tiers"));
    TIERS.forEach(function (tier) {
      tiers.appendChild(E("button", { type: "button", "data-amount": tier.amount_cents, disabled: (p.available || 0) < tier.points,
        text: App.euro(tier.amount_cents) + "-coupon voor " + App.number(tier.points) + " punten",
        onclick: function () { convert(tier, App.uuid()); } }));
    });
  }

  /** One conversion attempt = one Idempotency-Key; a retry after a lost answer reuses it. */
  function convert(tier, key) {
    var box = document.getElementById("convert-status");
    App.notify(box, "Coupon wordt aangemaakt…");
    call("/members/me/coupons", { method: "POST", body: { amount_cents: tier.amount_cents }, headers: { "Idempotency-Key": key } })
      .then(function (r) {
        if (r.status === 201 || r.status === 200) {
          App.notify(box, "Uw coupon van " + App.euro(r.body.amount_cents) + " staat klaar: code " + r.body.code +
            ", geldig tot en met " + App.date(r.body.expires_on) + ".", "ok");
          return load();
        }
        if (r.body && r.body.code === "UNKNOWN_TIER" && r.body.details && r.body.details.tiers) TIERS = r.body.details.tiers;
        App.notify(box, App.message(r), "err");
      }, function () {
        App.clear(box);
        App.notify(box, "De verbinding viel weg; wij weten niet of de coupon is aangemaakt. ", "warn");
        box.appendChild(E("button", { type: "button", class: "secondary", text: "Opnieuw proberen (zelfde verzoek)",
          onclick: function () { convert(tier, key); } }));
      });
  }

  function qr(code) {
    var q = qrcode(0, "M");
    q.addData(code);
    q.make();
    var box = E("div", { class: "qr", role: "img", "aria-label": "QR-code van coupon " + code });
    box.innerHTML = q.createSvgTag({ cellSize: 4, margin: 2, scalable: true }); // generated locally from the code
    var svg = box.querySelector("svg");
    if (svg) svg.setAttribute("aria-hidden", "true");
    return box;
  }

  function coupons() {
    return call("/members/me/coupons").then(function (r) {
      var list = App.clear(document.getElementById("coupons"));
      if (!r.ok) return;
      var items = r.body.items || [];
      if (!items.length) list.appendChild(E("li", { class: "muted", text: "U hebt nog geen coupons." }));
      items.forEach(function (c) {
        list.appendChild(E("li", { class: "coupon", "data-code": c.code },
          E("div", { class: "amount", text: App.euro(c.amount_cents) }),
          c.status === "active" ? qr(c.code) : null,
          E("div", { class: "code", text: c.code }),
          E("div", {}, E("span", { class: "badge " + c.status, text: COUPON_STATUS[c.status] || c.status })),
          E("div", { class: "muted", text: "Geldig tot en met " + App.date(c.expires_on) })));
      });
    });
  }

  function receipts() {
    return call("/members/me/receipts").then(function (r) {
      var body = App.clear(document.getElementById("receipts"));
      if (!r.ok) return;
      var items = r.body.items || [];
      if (!items.length) body.appendChild(E("tr", {}, E("td", { colspan: "5", class: "muted", text: "Nog geen kassabonnen." })));
      items.forEach(function (x) {
        body.appendChild(E("tr", {}, E("td", { text: x.receipt_id }), E("td", { text: App.date(x.purchased_at) }),
          E("td", { text: x.total_cents !== undefined ? App.euro(x.total_cents) : "" }), E("td", { text: App.number(x.points) }),
          E("td", { text: App.date(x.matures_on) })));
      });
    });
  }

  function history(more) {
    var path = "/members/me/history?limit=20" + (more && historyCursor ? "&cursor=" + encodeURIComponent(historyCursor) : "");
    return call(path).then(function (r) {
      var body = document.getElementById("history");
      if (!more) App.clear(body);
      if (!r.ok) return;
      (r.body.items || []).forEach(function (e) {
        body.appendChild(E("tr", {}, E("td", { text: App.dateTime(e.at) }), E("td", { text: TYPES[e.type] || e.type }),
          E("td", { text: (e.points > 0 ? "+" : "") + App.number(e.points) }), E("td", { text: cause(e.cause) })));
      });
      historyCursor = r.body.next_cursor;
      document.getElementById("history-more").hidden = !historyCursor;
    });
  }

  document.getElementById("history-more").addEventListener("click", function () { history(true); });
  document.getElementById("logout").addEventListener("click", function () { signOut(); });

  document.getElementById("receipt-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var input = document.getElementById("receipt-id");
    var error = document.getElementById("receipt-error");
    var id = input.value.trim();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    if (!id) { error.textContent = "Vul het bonnummer in."; input.setAttribute("aria-invalid", "true"); input.focus(); return; }
    call("/members/me/receipts", { method: "POST", body: { receipt_id: id } }).then(function (r) {
      if (!r.ok) { error.textContent = App.message(r); input.setAttribute("aria-invalid", "true"); return; }
      App.notify(status, "Kassabon " + id + " is geregistreerd: " + App.number(r.body.points) + " punten, beschikbaar op " +
        App.date(r.body.matures_on) + ".", "ok");
      input.value = "";
      load();
    });
  });

  document.getElementById("join-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target, error = document.getElementById("join-error");
    var body = { email: f.email.value.trim(), first_name: f.first_name.value.trim(), last_name: f.last_name.value.trim(),
      newsletter: f.newsletter.checked, partner_data_sharing: f.partner_data_sharing.checked };
    call("/members", { method: "POST", body: body }).then(function (r) {
      if (!r.ok) {
        var errs = ((r.body && r.body.details && r.body.details.errors) || []).map(function (e) { return e.field + ": " + App.problemText(e.problem); });
        error.textContent = App.message(r) + (errs.length ? " " + errs.join(" ") : "");
        return;
      }
      App.notify(status, "Welkom bij myMediaMarkt!", "ok");
      load();
    });
  });

  document.getElementById("token-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var t = document.getElementById("token").value.trim();
    if (t) signIn(t);
  });

  // --- start: a token from Cognito's redirect, from this tab, or the sign-in choices -----------
  App.takeTokenFromFragment(KEY);
  var login = App.cognitoLoginUrl();
  if (login) { document.getElementById("cognito-box").hidden = false; document.getElementById("cognito-login").href = login; }
  if (App.config.devTokens) {
    var dev = document.getElementById("dev-login");
    dev.hidden = false;
    dev.addEventListener("submit", function (ev) {
      ev.preventDefault();
      App.mintDevToken(document.getElementById("dev-sub").value.trim(), "member").then(signIn, function () {
        App.notify(status, "Kon geen ontwikkeltoken maken.", "err");
      });
    });
  }
  var saved = sessionStorage.getItem(KEY);
  if (saved) signIn(saved); else document.getElementById("signin").hidden = false;
})();
