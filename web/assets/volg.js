/* volg.html?claim=NNN: claim number + postcode -> status, timeline, deadlines and the next step. */
(function () {
  "use strict";
  var E = App.el;
  var form = document.getElementById("track-form");
  var status = document.getElementById("status");
  var params = new URLSearchParams(window.location.search);
  var current = null; // {claim, postcode}

  var DEADLINES = { proof_by: "Aankoopbewijs uploaden vóór of op", complete_by: "Gegevens aanvullen vóór of op",
    device_by: "Oude laptop bij ons vóór of op", return_request_by: "Laptop terugvragen vóór of op",
    payment_on: "Uitbetaling op of rond" };

  /** next_step from the API; derived from the status when an older API leaves it out. */
  function nextStep(claim) {
    if (claim.next_step) return claim.next_step;
    return { awaiting_proof: "upload_proof", incomplete: "complete_details", awaiting_device: "send_device",
      rejected: "request_return" }[claim.status] || (["paid", "lapsed", "void", "disqualified", "return_requested"]
      .indexOf(claim.status) >= 0 ? "none" : "wait");
  }

  function stepText(step, d) {
    switch (step) {
      case "upload_proof": return "Upload uw aankoopbewijs (kassabon of factuur)" + (d.proof_by ? ", uiterlijk " + App.date(d.proof_by) : "") + ".";
      case "complete_details": return "Vul uw bankgegevens aan" + (d.complete_by ? ", uiterlijk " + App.date(d.complete_by) : "") + ", anders vervalt uw claim.";
      case "send_device": return "Stuur uw oude laptop op met het verzendlabel uit onze e-mail" + (d.device_by ? "; hij moet uiterlijk " + App.date(d.device_by) + " bij ons zijn" : "") + ".";
      case "wait": return "U hoeft nu niets te doen. Wij houden u per e-mail op de hoogte.";
      case "request_return": return "Uw claim is afgekeurd. Wilt u uw oude laptop terug? Vraag dat aan" + (d.return_request_by ? " uiterlijk " + App.date(d.return_request_by) : "") + ".";
      default: return "U hoeft niets meer te doen: deze claim is afgerond.";
    }
  }

  function render(claim) {
    var d = claim.deadlines || {};
    document.getElementById("claim-view").hidden = false;
    document.getElementById("claim-title").textContent = "Claim " + claim.claim_number;
    document.getElementById("claim-status").textContent = App.STATUS[claim.status] || claim.status;
    document.getElementById("claim-reward").textContent = App.euro(claim.reward_cents);
    var step = nextStep(claim);
    App.notify(document.getElementById("next-step"), stepText(step, d), step === "none" || step === "wait" ? "ok" : "warn");
    document.getElementById("next-step").dataset.step = step;
    action(step);
    var list = App.clear(document.getElementById("deadlines"));
    var keys = Object.keys(d);
    list.appendChild(keys.length ? E("dl", { class: "facts" }, ...keys.reduce(function (acc, k) {
      acc.push(E("dt", { text: DEADLINES[k] || k }), E("dd", { text: App.date(d[k]) })); return acc;
    }, [])) : E("p", { class: "muted", text: "Er lopen geen termijnen." }));
    var timeline = App.clear(document.getElementById("timeline"));
    (claim.timeline || []).forEach(function (entry) {
      var what = entry.event ? (App.EVENTS[entry.event] || entry.event) : (App.STATUS[entry.status] || entry.status);
      timeline.appendChild(E("li", { class: entry.event ? "event" : "" },
        E("strong", { text: what }), " ", E("span", { class: "muted", text: App.dateTime(entry.at) }),
        entry.reason ? E("div", { text: "Reden: " + App.reason(entry.reason) }) : null));
    });
  }

  function action(step) {
    var box = App.clear(document.getElementById("step-action"));
    if (step === "upload_proof") {
      var err = E("p", { class: "error", id: "up-error" });
      var bar = E("progress", { id: "up-progress", max: "100", value: "0" });
      var file = E("input", { type: "file", id: "up-file", accept: "application/pdf,image/jpeg,image/png", "aria-describedby": "up-error" });
      box.appendChild(E("div", { class: "card" },
        E("div", { class: "field" }, E("label", { for: "up-file", text: "Aankoopbewijs (PDF, JPEG of PNG, hoogstens 10 MB)" }), file, err),
        E("label", { for: "up-progress", class: "label", text: "Voortgang" }), bar,
        E("div", { class: "actions" }, E("button", { type: "button", text: "Uploaden", onclick: function () {
          var f = file.files[0];
          err.textContent = "";
          if (!f || ["application/pdf", "image/jpeg", "image/png"].indexOf(f.type) < 0 || !f.size || f.size > 10485760) {
            err.textContent = "Kies een PDF, JPEG of PNG van hoogstens 10 MB."; return;
          }
          post("/upload", { postcode: current.postcode, proof_content_type: f.type }).then(function (r) {
            if (!r.ok) { err.textContent = App.message(r); return; }
            return App.uploadToS3(r.body.upload, f, function (p) { bar.value = p; }).then(function () {
              App.notify(status, "Uw aankoopbewijs is ontvangen. Wij controleren het nu.", "ok");
              setTimeout(lookup, 2500);
            }, function (e) { err.textContent = App.uploadError(e); });
          });
        } }))));
    } else if (step === "complete_details") {
      var ferr = E("p", { class: "error", id: "bank-error" });
      var iban = E("input", { type: "text", id: "bank-iban", autocomplete: "off", "aria-describedby": "bank-error" });
      var holder = E("input", { type: "text", id: "bank-holder", autocomplete: "name" });
      box.appendChild(E("form", { class: "card", onsubmit: function (ev) {
        ev.preventDefault();
        ferr.textContent = "";
        post("", { postcode: current.postcode, participant: { iban: iban.value.trim(), account_holder: holder.value.trim() } }, "PATCH")
          .then(function (r) {
            if (!r.ok) { ferr.textContent = App.message(r) + " " + problems(r); return; }
            App.notify(status, "Dank u, uw gegevens zijn aangevuld.", "ok"); render(r.body.status ? r.body : current.claim); lookup();
          });
      } }, E("div", { class: "field" }, E("label", { for: "bank-iban", text: "IBAN" }), iban),
        E("div", { class: "field" }, E("label", { for: "bank-holder", text: "Naam rekeninghouder" }), holder), ferr,
        E("div", { class: "actions" }, E("button", { type: "submit", text: "Gegevens aanvullen" }))));
    } else if (step === "request_return") {
      box.appendChild(E("div", { class: "actions" }, E("button", { type: "button", text: "Laptop terugvragen", onclick: function () {
        post("/return-request", { postcode: current.postcode }).then(function (r) {
          if (!r.ok) { App.notify(status, App.message(r), "err"); return; }
          App.notify(status, "Uw aanvraag is ontvangen: wij sturen uw laptop terug.", "ok"); lookup();
        });
      } })));
    }
  }

  function invalid(input, yes) {
    if (yes) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
  }

  function problems(r) {
    var d = (r.body && r.body.details) || {};
    return (d.problems || []).map(function (p) { return App.reason(p.reason); }).join(", ");
  }

  function post(suffix, body, method) {
    return App.api("/tradein/claims/" + encodeURIComponent(current.number) + suffix, { method: method || "POST", body: body });
  }

  function lookup() {
    return App.api("/tradein/claims/" + encodeURIComponent(current.number) + "?postcode=" + encodeURIComponent(current.postcode))
      .then(function (r) {
        if (!r.ok) {
          document.getElementById("claim-view").hidden = true;
          App.notify(status, App.message(r), "err");
          return;
        }
        current.claim = r.body;
        App.notify(status, "");
        render(r.body);
      }, function () { App.notify(status, "De verbinding met onze server is mislukt. Probeer het opnieuw.", "err"); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var number = form.elements.claim.value.trim().toUpperCase();
    var postcode = form.elements.postcode.value.trim();
    document.getElementById("claim-error").textContent = number ? "" : "Vul uw claimnummer in.";
    document.getElementById("postcode-error").textContent = postcode ? "" : "Vul de postcode van uw claim in.";
    invalid(form.elements.claim, !number);
    invalid(form.elements.postcode, !postcode);
    if (!number) { form.elements.claim.focus(); return; }
    if (!postcode) { form.elements.postcode.focus(); return; }
    current = { number: number, postcode: postcode };
    lookup().then(function () {
      if (!document.getElementById("claim-view").hidden) document.getElementById("claim-title").focus();
    });
  });

  if (params.get("claim")) {
    form.elements.claim.value = params.get("claim");
    form.elements.postcode.focus();
  }
})();
