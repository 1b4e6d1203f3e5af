/* inruil.html: the claim form, inline validation in the API's terms, the proof upload to S3. */
(function () {
  "use strict";
  var form = document.getElementById("claim-form");
  var summary = document.getElementById("summary");
  var campaigns = [];
  var MAX_BYTES = 10 * 1024 * 1024;
  var TYPES = ["application/pdf", "image/jpeg", "image/png"];
  var BOOLEAN_FIELDS = ["old_device.working", "old_device.complete", "old_device.undamaged", "old_device.battery_ok",
    "old_device.charger_included", "declarations.legal_owner", "declarations.private_person",
    "declarations.not_employee", "declarations.data_removed"];
  var PURCHASE_FIELD = { LINE_NOT_FOUND: "laptop_line_id", NOT_A_LAPTOP: "laptop_line_id", PRICE_TOO_LOW: "laptop_line_id",
    BRAND_EXCLUDED: "laptop_line_id", RETURNED: "laptop_line_id" };
  var DEVICE_FIELD = { SCREEN_TOO_SMALL: "old_device.screen_inches", TOO_OLD: "old_device.purchased_on",
    PURCHASE_DATE_IN_FUTURE: "old_device.purchased_on", WORKING: "old_device.working", COMPLETE: "old_device.complete",
    UNDAMAGED: "old_device.undamaged", BATTERY_OK: "old_device.battery_ok", CHARGER_INCLUDED: "old_device.charger_included" };

  function terms(c) {
    var E = App.el;
    return E("div", { class: "card" },
      E("h3", { text: c.name }),
      E("dl", { class: "facts" },
        E("dt", { text: "Actieperiode" }), E("dd", { text: App.date(c.starts_at) + " t/m " + App.date(c.ends_at) }),
        E("dt", { text: "Inruilbedrag" }), E("dd", { text: App.euro(c.reward_cents) }),
        E("dt", { text: "Registreren" }), E("dd", { text: "van dag " + c.registration_window_days.first + " tot en met dag " +
          c.registration_window_days.last + " na uw aankoop" }),
        E("dt", { text: "Laptop opsturen" }), E("dd", { text: "uiterlijk op dag " + c.device_deadline_day + " na onze bevestiging" }),
        E("dt", { text: "Nieuwe laptop" }), E("dd", { text: "vanaf " + App.euro(c.min_line_price_cents) + ", gekocht via " +
          (c.channels || []).map(function (ch) { return ch === "webshop" ? "de webshop" : ch === "store" ? "de winkel" : ch; }).join(" of ") +
          ((c.excluded_brands || []).length ? "; niet van " + c.excluded_brands.join(", ") : "") }),
        E("dt", { text: "Oude laptop" }), E("dd", { text: c.device_criteria.text })));
  }

  function showCampaigns(items) {
    var list = App.clear(document.getElementById("campaign-list"));
    var status = document.getElementById("campaigns-status");
    var now = new Date();
    campaigns = items.filter(function (c) {
      // registration is open while purchases of the period can still reach their window
      var last = new Date(c.ends_at); last.setDate(last.getDate() + c.registration_window_days.last);
      return new Date(c.starts_at) <= now && now <= last;
    });
    if (!campaigns.length) {
      App.notify(status, "Er loopt op dit moment geen inruilactie.", "warn");
      return;
    }
    status.hidden = true;
    campaigns.forEach(function (c, i) {
      var id = "campaign-" + i;
      list.appendChild(App.el("div", { class: "check" },
        App.el("input", { type: "radio", name: "campaign_id", id: id, value: c.campaign_id, checked: i === 0,
          onchange: function () { criteria(c); } }),
        App.el("label", { for: id, text: c.name + " (" + App.euro(c.reward_cents) + ")" })));
      list.appendChild(terms(c));
    });
    criteria(campaigns[0]);
    form.hidden = false;
  }

  function criteria(c) {
    document.getElementById("device-criteria").textContent = "Voorwaarde: " + c.device_criteria.text + ".";
  }

  function value(name) {
    var input = form.elements[name];
    if (!input) return undefined;
    if (input.type === "checkbox") return input.checked;
    if (input instanceof RadioNodeList) return input.value;
    return input.value.trim();
  }

  function body() {
    var data = { campaign_id: value("campaign_id"), receipt_id: value("receipt_id"), laptop_line_id: value("laptop_line_id"),
      participant: { address: {} }, old_device: {}, declarations: {} };
    form.querySelectorAll("[name^='participant.'], [name^='old_device.'], [name^='declarations.']").forEach(function (input) {
      var path = input.name.split(".");
      var target = data;
      for (var i = 0; i < path.length - 1; i++) target = target[path[i]];
      var key = path[path.length - 1];
      var v = value(input.name);
      if (key === "house_number") v = /^\d+$/.test(v) ? parseInt(v, 10) : v;
      if (key === "screen_inches") v = v === "" ? v : Number(String(v).replace(",", "."));
      if (key === "screen_inches" && isNaN(v)) v = value(input.name);
      if ((key === "house_number_suffix" || key === "iban" || key === "account_holder") && v === "") return;
      target[key] = v;
    });
    var file = document.getElementById("proof").files[0];
    data.proof_content_type = file && TYPES.indexOf(file.type) >= 0 ? file.type : "application/pdf";
    return data;
  }

  /** The checks the API makes too, so most mistakes show before sending (the API stays the judge). */
  function check(data) {
    var errors = [];
    function need(field, ok, text) { if (!ok) errors.push([field, text]); }
    need("campaign_id", !!data.campaign_id, "Kies een actie.");
    need("receipt_id", !!data.receipt_id, "Vul het bonnummer in.");
    need("laptop_line_id", !!data.laptop_line_id, "Vul het regelnummer van de laptop in.");
    var p = data.participant, a = p.address, d = data.old_device;
    need("participant.first_name", !!p.first_name, "Vul uw voornaam in.");
    need("participant.last_name", !!p.last_name, "Vul uw achternaam in.");
    need("participant.email", /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(p.email), "Vul een geldig e-mailadres in.");
    need("participant.phone", /^\+?[0-9 ()-]{6,20}$/.test(p.phone), "Vul een geldig telefoonnummer in (alleen cijfers, spaties, +, - en haakjes).");
    need("participant.birth_date", /^\d{4}-\d{2}-\d{2}$/.test(p.birth_date), "Vul uw geboortedatum in.");
    need("participant.address.postcode", a.country !== "NL" || /^[1-9][0-9]{3}\s?[A-Za-z]{2}$/.test(a.postcode), "Vul een geldige postcode in, bijvoorbeeld 1234 AB.");
    need("participant.address.house_number", Number.isInteger(a.house_number) && a.house_number >= 1, "Vul een huisnummer in (alleen cijfers; een toevoeging apart).");
    need("participant.address.street", !!a.street, "Vul uw straat in.");
    need("participant.address.city", !!a.city, "Vul uw woonplaats in.");
    need("participant.iban", !p.iban || /^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]{8,38}$/.test(p.iban), "Vul een geldig IBAN in, of laat het leeg en vul het later aan.");
    need("participant.account_holder", !p.iban || !!p.account_holder, "Vul de naam van de rekeninghouder in.");
    need("old_device.brand", !!d.brand, "Vul het merk in.");
    need("old_device.model", !!d.model, "Vul het model in.");
    need("old_device.screen_inches", typeof d.screen_inches === "number" && d.screen_inches > 0 && d.screen_inches <= 30, "Vul de schermdiagonaal in inch in, bijvoorbeeld 15,6.");
    need("old_device.purchased_on", /^\d{4}-\d{2}-\d{2}$/.test(d.purchased_on), "Vul in wanneer u de oude laptop kocht.");
    Object.keys(data.declarations).forEach(function (k) {
      need("declarations." + k, data.declarations[k] === true, "Bevestig deze verklaring.");
    });
    var file = document.getElementById("proof").files[0];
    need("proof", !!file, "Kies uw aankoopbewijs.");
    if (file) {
      need("proof", TYPES.indexOf(file.type) >= 0, "Alleen PDF, JPEG of PNG.");
      need("proof", file.size > 0 && file.size <= MAX_BYTES, "Het bestand mag niet leeg zijn en hoogstens 10 MB groot.");
    }
    return errors;
  }

  function labelOf(field) {
    var input = form.querySelector('[name="' + field + '"]');
    var label = input && form.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.replace(/\s*\(optioneel\)/, "") : field;
  }

  function showErrors(errors, headline) {
    App.clearFieldErrors(form);
    App.clear(summary);
    if (!errors.length && !headline) return;
    summary.appendChild(App.el("p", { text: headline || "Controleer de gemarkeerde velden:" }));
    var list = App.el("ul");
    errors.forEach(function (e) {
      App.fieldError(form, e[0], e[1]);
      var input = form.querySelector('[name="' + e[0] + '"]') || form.querySelector('fieldset[data-group="' + e[0] + '"] input');
      list.appendChild(App.el("li", {}, input ? App.el("a", { href: "#" + input.id, text: labelOf(e[0]) + ": " + e[1] }) : e[1]));
    });
    if (errors.length) summary.appendChild(list);
    summary.focus();
  }

  /** The API's refusals, on the fields they are about. */
  function apiErrors(result) {
    var b = result.body || {}, d = b.details || {}, errors = [];
    if (b.code === "INVALID_REQUEST") {
      (d.errors || []).forEach(function (e) {
        var field = e.field.replace(/^body\./, "");
        if (BOOLEAN_FIELDS.indexOf(field) < 0 && !form.querySelector('[name="' + field + '"]')) field = field.split(".")[0];
        errors.push([field, App.problemText(e.problem)]);
      });
    } else if (b.code === "PARTICIPANT_NOT_ELIGIBLE") {
      (d.problems || []).forEach(function (p) { errors.push([p.field, cap(App.reason(p.reason)) + "."]); });
    } else if (b.code === "DECLARATION_MISSING") {
      (d.missing || []).forEach(function (m) { errors.push(["declarations." + m, "Bevestig deze verklaring."]); });
    } else if (b.code === "DEVICE_NOT_ELIGIBLE") {
      (d.reasons || []).forEach(function (r) { errors.push([DEVICE_FIELD[r] || "old_device", cap(App.reason(r)) + "."]); });
    } else if (b.code === "PURCHASE_NOT_ELIGIBLE") {
      (d.reasons || []).forEach(function (r) { errors.push([PURCHASE_FIELD[r] || "receipt_id", cap(App.reason(r)) + "."]); });
    } else if (b.code === "OUTSIDE_REGISTRATION_WINDOW") {
      errors.push(["receipt_id", d.opens_on ? "Voor deze aankoop kunt u registreren van " + App.date(d.opens_on) + " tot en met " +
        App.date(d.closes_on) + "." : App.CODES.OUTSIDE_REGISTRATION_WINDOW]);
    } else if (b.code === "ADDRESS_ALREADY_CLAIMED") {
      errors.push(["participant.address.postcode", App.CODES.ADDRESS_ALREADY_CLAIMED]);
    } else if (b.code === "PURCHASE_ALREADY_CLAIMED" || b.code === "RECEIPT_NOT_FOUND") {
      errors.push(["receipt_id", App.CODES[b.code]]);
    } else if (b.code === "CAMPAIGN_NOT_FOUND") {
      errors.push(["campaign_id", App.CODES.CAMPAIGN_NOT_FOUND]);
    }
    return errors;
  }
  function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }

  function upload(target, file) {
    var bar = document.getElementById("upload-progress");
    var percent = document.getElementById("upload-percent");
    return App.uploadToS3(target, file, function (p) { bar.value = p; bar.textContent = p + "%"; percent.textContent = p + "%"; });
  }

  var current = null; // {claim_number, postcode}

  function uploadAndFollow(answer, file) {
    var status = document.getElementById("result-status");
    App.notify(status, "Claim " + answer.claim_number + " is geregistreerd. Uw aankoopbewijs wordt geüpload…");
    return upload(answer.upload, file).then(function () {
      App.notify(status, "Claim " + answer.claim_number + ": uw aankoopbewijs is ontvangen. Wij controleren het nu…", "ok");
      return follow(answer.claim_number, 0);
    }, function (err) {
      var text = App.uploadError(err);
      App.notify(status, "Claim " + answer.claim_number + " is geregistreerd, maar: " + text + " Probeer het opnieuw.", "err");
      document.getElementById("retry").hidden = false;
    });
  }

  /** After the upload: the claim moves on once the proof is checked (a few seconds). */
  function follow(claimNumber, attempt) {
    var status = document.getElementById("result-status");
    return App.api("/tradein/claims/" + encodeURIComponent(claimNumber) + "?postcode=" + encodeURIComponent(current.postcode))
      .then(function (r) {
        if (!r.ok) return;
        var claim = r.body;
        var refused = (claim.timeline || []).filter(function (e) { return e.event === "proof_refused"; });
        if (claim.status === "awaiting_proof" && refused.length > current.refused) {
          current.refused = refused.length;
          App.notify(status, "Uw aankoopbewijs is geweigerd: " + App.reason(refused[refused.length - 1].reason) +
            ". Upload een ander bestand (PDF, JPEG of PNG, hoogstens 10 MB).", "err");
          document.getElementById("retry").hidden = false;
          return;
        }
        if (claim.status !== "awaiting_proof") {
          var next = claim.status === "incomplete" ? " Vul uw bankgegevens nog aan." :
            claim.status === "awaiting_device" ? " U ontvangt per e-mail een verzendlabel voor uw oude laptop." : "";
          App.notify(status, "Claim " + claimNumber + ": " + (App.STATUS[claim.status] || claim.status) + "." + next, "ok");
          return;
        }
        if (attempt < 20) return new Promise(function (r2) { setTimeout(r2, 1000); }).then(function () { return follow(claimNumber, attempt + 1); });
      });
  }

  document.getElementById("upload-again").addEventListener("click", function () {
    var file = document.getElementById("proof-again").files[0];
    var error = document.getElementById("proof-again-error");
    error.textContent = "";
    if (!file || TYPES.indexOf(file.type) < 0 || file.size === 0 || file.size > MAX_BYTES) {
      error.textContent = "Kies een PDF, JPEG of PNG van hoogstens 10 MB.";
      return;
    }
    App.api("/tradein/claims/" + encodeURIComponent(current.claim_number) + "/upload", { method: "POST",
      body: { postcode: current.postcode, proof_content_type: file.type } }).then(function (r) {
      if (!r.ok) { error.textContent = App.message(r); return; }
      document.getElementById("retry").hidden = true;
      uploadAndFollow(r.body, file);
    });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = body();
    var errors = check(data);
    if (errors.length) { showErrors(errors); return; }
    showErrors([]);
    var button = document.getElementById("submit");
    button.disabled = true;
    App.api("/tradein/claims", { method: "POST", body: data }).then(function (r) {
      button.disabled = false;
      if (r.status !== 201 && r.status !== 200) {
        showErrors(apiErrors(r), App.message(r));
        return;
      }
      current = { claim_number: r.body.claim_number, postcode: data.participant.address.postcode, refused: 0 };
      form.hidden = true;
      var result = document.getElementById("result");
      result.hidden = false;
      document.getElementById("result-title").textContent = "Uw claim " + r.body.claim_number;
      document.getElementById("track-link").href = "volg.html?claim=" + encodeURIComponent(r.body.claim_number);
      document.getElementById("result-title").focus();
      uploadAndFollow(r.body, document.getElementById("proof").files[0]);
    }, function () {
      button.disabled = false;
      showErrors([], "De verbinding met onze server is mislukt. Probeer het opnieuw.");
    });
  });

  // live validation of one field when leaving it, with the same checks
  form.addEventListener("change", function (event) {
    var name = event.target.name;
    if (!name || !event.target.getAttribute("aria-invalid")) return;
    var still = check(body()).filter(function (e) { return e[0] === name; });
    var box = form.querySelector('.error[data-for="' + name + '"]');
    if (!still.length) { event.target.removeAttribute("aria-invalid"); if (box) box.textContent = ""; }
  });

  App.api("/tradein/campaigns").then(function (r) {
    if (!r.ok) { App.notify(document.getElementById("campaigns-status"), App.message(r), "err"); return; }
    showCampaigns(r.body.items || []);
  }, function () {
    App.notify(document.getElementById("campaigns-status"), "De acties konden niet worden geladen. Probeer het later opnieuw.", "err");
  });
})();
