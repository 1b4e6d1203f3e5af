/* Shared by every page: API calls, Dutch messages for the API's error codes, formatting, DOM. */
(function () {
  "use strict";
  var config = window.APP_CONFIG || {};
  var apiUrl = String(config.apiUrl || "").replace(/\/$/, "");

  /** One API call. Resolves {status, ok, body} for every HTTP answer; rejects only when the
   *  network fails. `missing` is true when the route does not exist (yet). */
  function api(path, options) {
    options = options || {};
    var headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.token) headers.Authorization = "Bearer " + options.token;
    var init = { method: options.method || "GET", headers: headers };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    return fetch(apiUrl + path, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = { message: text }; }
        var code = body && body.code;
        // API Gateway / chalice local answer an unknown route with 403/404 and no contract code
        var missing = (response.status === 404 || response.status === 403) && !code;
        return { status: response.status, ok: response.ok, body: body, missing: missing };
      });
    });
  }

  var CODES = {
    MALFORMED_JSON: "Het verzoek kon niet worden gelezen. Probeer het opnieuw.",
    INVALID_REQUEST: "Niet alle velden zijn juist ingevuld. Controleer de gemarkeerde velden.",
    UNAUTHORIZED: "U bent niet (meer) ingelogd. Log opnieuw in.",
    FORBIDDEN: "U hebt geen toegang tot dit onderdeel.",
    CAMPAIGN_NOT_FOUND: "Deze actie bestaat niet (meer).",
    RECEIPT_NOT_FOUND: "Wij kennen geen aankoop met dit bonnummer. Controleer het nummer op uw kassabon.",
    PURCHASE_NOT_ELIGIBLE: "Deze aankoop doet niet mee aan de actie.",
    OUTSIDE_REGISTRATION_WINDOW: "U kunt zich alleen registreren vanaf dag 30 tot en met dag 60 na uw aankoop.",
    PARTICIPANT_NOT_ELIGIBLE: "Met deze gegevens kunt u niet deelnemen. Controleer de gemarkeerde velden.",
    DECLARATION_MISSING: "Bevestig alle verklaringen om deel te nemen.",
    DEVICE_NOT_ELIGIBLE: "Uw oude laptop voldoet niet aan de voorwaarden.",
    ADDRESS_ALREADY_CLAIMED: "Op dit adres is al een claim voor deze actie geregistreerd (één claim per adres).",
    PURCHASE_ALREADY_CLAIMED: "Voor deze laptop is al een claim geregistreerd.",
    CLAIM_NOT_FOUND: "Wij vinden geen claim met dit claimnummer en deze postcode. Controleer beide.",
    PROOF_ALREADY_RECEIVED: "Wij hebben uw aankoopbewijs al ontvangen.",
    ILLEGAL_TRANSITION: "Deze stap past niet bij de huidige status van de claim.",
    RETURN_REQUEST_TOO_LATE: "De termijn om uw laptop terug te vragen is verstreken.",
    RETURN_REQUEST_NOT_ALLOWED: "Alleen bij een afgekeurde claim kunt u uw laptop terugvragen.",
    DATA_STILL_MISSING: "Er ontbreken nog gegevens.",
    RECEIVED_ON_IN_FUTURE: "De ontvangstdatum mag niet in de toekomst liggen.",
    BATCH_NOT_SCHEDULED: "Deze batch is niet (meer) ingepland en kan niet mislukt worden gemeld.",
    MEMBER_NOT_FOUND: "Geen klant gevonden.",
    MEMBER_EXISTS: "Dit account bestaat al.",
    ACCOUNT_MERGED: "Dit account is samengevoegd met een ander account. Log in met uw andere account.",
    RECEIPT_ALREADY_REGISTERED: "Deze kassabon is al geregistreerd op een ander account.",
    RECEIPT_NOT_ELIGIBLE: "Aankopen bij externe verkopers of in de Outlet leveren geen punten op.",
    INSUFFICIENT_POINTS: "U hebt niet genoeg beschikbare punten voor deze coupon.",
    UNKNOWN_TIER: "Deze couponwaarde bestaat niet.",
    IDEMPOTENCY_KEY_REUSED: "Dit verzoek is al eens met andere gegevens verstuurd. Probeer het opnieuw.",
    CONCURRENT_UPDATE: "Uw gegevens veranderden tegelijkertijd. Probeer het nog eens.",
    ADJUSTMENT_CONFLICT: "Deze correctie-id is al gebruikt met andere gegevens.",
    CAMPAIGN_TERMS_INVALID: "De actievoorwaarden kloppen niet (controleer data en termijnen).",
    CAMPAIGN_HAS_CLAIMS: "Deze voorwaarde kan niet meer veranderen: er zijn al claims op gebaseerd.",
    MERGE_SAME_ACCOUNT: "Een account kan niet met zichzelf worden samengevoegd.",
    ALREADY_MERGED: "Het bronaccount is al samengevoegd met een ander account.",
    INVALID_STATUS: "Deze actie past niet bij de huidige status van de claim.",
    INVALID_AS_OF: "Deze datum kan niet: niet na vandaag en niet voor 2000."
  };

  var REASONS = {
    // PURCHASE_NOT_ELIGIBLE
    CHANNEL_EXCLUDED: "gekocht via een kanaal dat niet meedoet", STORE_EXCLUDED: "gekocht in een winkel die niet meedoet",
    LINE_NOT_FOUND: "deze regel staat niet op de kassabon", NOT_A_LAPTOP: "deze regel is geen laptop",
    PRICE_TOO_LOW: "de laptop kostte minder dan de minimumprijs", BRAND_EXCLUDED: "dit merk doet niet mee",
    RETURNED: "de laptop is geretourneerd", OUTSIDE_PERIOD: "gekocht buiten de actieperiode",
    // PARTICIPANT_NOT_ELIGIBLE
    NOT_NETHERLANDS: "alleen adressen in Nederland doen mee", INVALID_POSTCODE: "geen geldige Nederlandse postcode (1234 AB)",
    INVALID_HOUSE_NUMBER: "geen geldig huisnummer", TOO_YOUNG: "u moet 18 jaar of ouder zijn",
    INVALID_EMAIL: "geen geldig e-mailadres", EMPLOYEE_DOMAIN: "medewerkers kunnen niet deelnemen",
    INVALID_IBAN: "geen geldig IBAN", EMPTY: "vul dit veld in",
    // DEVICE_NOT_ELIGIBLE
    SCREEN_TOO_SMALL: "het beeldscherm is te klein", PURCHASE_DATE_IN_FUTURE: "de aankoopdatum ligt in de toekomst",
    TOO_OLD: "de laptop is te oud", WORKING: "de laptop moet werken", COMPLETE: "de laptop moet compleet zijn",
    UNDAMAGED: "de laptop mag niet beschadigd zijn", BATTERY_OK: "de batterij moet werken",
    CHARGER_INCLUDED: "de voeding moet worden meegestuurd",
    // proof_refused
    NOT_PDF_OR_IMAGE: "het bestand is geen PDF, JPEG of PNG", UNSUPPORTED_TYPE: "het bestand is geen PDF, JPEG of PNG",
    TOO_LARGE: "het bestand is groter dan 10 MB", EMPTY_FILE: "het bestand is leeg", DUPLICATE_PROOF: "dit bewijs is al eens gebruikt"
  };

  /** Dutch for a pydantic problem text of a 400's details.errors. */
  function problemText(problem) {
    var p = String(problem || "");
    if (/required|missing/i.test(p)) return "Vul dit veld in.";
    if (/YYYY-MM-DD|date/i.test(p)) return "Vul een geldige datum in.";
    if (/valid integer|integer/i.test(p)) return "Vul een heel getal in.";
    if (/valid number|float/i.test(p)) return "Vul een getal in.";
    if (/at least|too short/i.test(p)) return "Dit is te kort.";
    if (/at most|too long/i.test(p)) return "Dit is te lang.";
    if (/pattern|match/i.test(p)) return "Dit heeft niet de juiste vorm.";
    if (/greater than|less than/i.test(p)) return "Deze waarde is niet toegestaan.";
    if (/boolean/i.test(p)) return "Kies ja of nee.";
    return "Dit veld is niet juist ingevuld.";
  }

  function message(result) {
    var body = result.body || {};
    if (body.code && CODES[body.code]) return CODES[body.code];
    if (result.status === 401) return CODES.UNAUTHORIZED;
    if (result.status === 403) return CODES.FORBIDDEN;
    if (result.missing) return "Deze functie is nog niet beschikbaar.";
    if (result.status >= 500) return "Er ging iets mis bij ons. Probeer het later opnieuw.";
    return body.message || "Er ging iets mis (" + result.status + ").";
  }

  function reason(code) { return REASONS[code] || String(code || "").toLowerCase().replace(/_/g, " "); }

  var STATUS = {
    awaiting_proof: "Wacht op aankoopbewijs", under_review: "In behandeling", incomplete: "Gegevens onvolledig",
    awaiting_device: "Wacht op uw oude laptop", device_received: "Laptop ontvangen", approved: "Goedgekeurd",
    revised: "Goedgekeurd met aangepast bedrag", rejected: "Afgekeurd", return_requested: "Terugzending aangevraagd",
    payout_scheduled: "Uitbetaling ingepland", paid: "Uitbetaald", lapsed: "Vervallen", void: "Vervallen (retour)",
    disqualified: "Uitgesloten"
  };
  var EVENTS = { proof_refused: "Aankoopbewijs geweigerd", proof_received: "Aankoopbewijs ontvangen" };

  function euro(cents) {
    return new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR" }).format((cents || 0) / 100);
  }
  function date(iso) {
    if (!iso) return "";
    var d = new Date(String(iso).length === 10 ? iso + "T12:00:00" : iso);
    return d.toLocaleDateString("nl-NL", { day: "numeric", month: "long", year: "numeric" });
  }
  function dateTime(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString("nl-NL", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }
  function number(n) { return new Intl.NumberFormat("nl-NL").format(n || 0); }

  /** el("p", {class: "x"}, "text", child…): DOM without innerHTML (no injection from API data). */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
    }
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  /** Show a message in a live region (role=status / role=alert is set in the HTML). */
  function notify(node, text, kind) {
    node.className = "notice" + (kind ? " " + kind : "");
    node.textContent = text || "";
  }

  /** Field errors: inputs are named after the API's field paths (participant.address.postcode). */
  function clearFieldErrors(form) {
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
    form.querySelectorAll(".error[data-for]").forEach(function (node) { node.textContent = ""; });
  }
  function fieldError(form, field, text) {
    var box = form.querySelector('.error[data-for="' + field + '"]');
    var input = form.querySelector('[name="' + field + '"]');
    if (!box && input) {
      // a field without its own box: the closest fieldset's
      var set = input.closest("fieldset");
      box = set && set.querySelector(".error[data-for='" + set.dataset.group + "']");
    }
    if (input) input.setAttribute("aria-invalid", "true");
    if (box) {
      box.textContent = box.textContent ? box.textContent + " " + text : text;
      return box;
    }
    return null;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /** Tokens: a dev token minted by the local stack, a pasted token, or Cognito's hosted UI
   *  (implicit flow: the id token comes back in the URL fragment). Kept for the tab only. */
  function takeTokenFromFragment(key) {
    var hash = new URLSearchParams(window.location.hash.slice(1));
    var token = hash.get("id_token");
    if (token) {
      sessionStorage.setItem(key, token);
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
  }
  function cognitoLoginUrl() {
    var c = config.cognito;
    if (!c || !c.domain || !c.clientId) return null;
    var redirect = window.location.origin + window.location.pathname;
    return c.domain.replace(/\/$/, "") + "/login?response_type=token&scope=openid+email&client_id=" +
      encodeURIComponent(c.clientId) + "&redirect_uri=" + encodeURIComponent(redirect);
  }
  function mintDevToken(sub, role) {
    return fetch("/dev/token?sub=" + encodeURIComponent(sub) + "&role=" + encodeURIComponent(role))
      .then(function (r) { if (!r.ok) throw new Error("dev token " + r.status); return r.json(); })
      .then(function (answer) { return answer.token; });
  }

  /** The proof upload: a multipart POST straight to S3's presigned form (never through the API),
   *  with the browser's upload progress. Resolves on 2xx; rejects with TOO_LARGE, NETWORK or S3_<status>. */
  function uploadToS3(upload, file, onProgress) {
    return new Promise(function (resolve, reject) {
      if (file.size > (upload.max_bytes || 10 * 1024 * 1024)) { reject(new Error("TOO_LARGE")); return; }
      var data = new FormData();
      Object.keys(upload.fields).forEach(function (k) { data.append(k, upload.fields[k]); });
      data.append("file", file, file.name);  // S3 reads the fields before the file: the file goes last
      var xhr = new XMLHttpRequest();
      xhr.open("POST", upload.url);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable && onProgress) onProgress(Math.round((e.loaded / e.total) * 100));
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) { if (onProgress) onProgress(100); resolve(); }
        else reject(new Error(/EntityTooLarge/.test(xhr.responseText) ? "TOO_LARGE" : "S3_" + xhr.status));
      });
      xhr.addEventListener("error", function () { reject(new Error("NETWORK")); });
      xhr.send(data);
    });
  }
  function uploadError(err) {
    return err.message === "TOO_LARGE" ? "Het bestand is te groot (hoogstens 10 MB)." :
      err.message === "NETWORK" ? "Het uploaden is mislukt: controleer uw verbinding." : "Het uploaden is mislukt.";
  }

  window.App = {
    uploadToS3: uploadToS3, uploadError: uploadError,
    config: config, api: api, message: message, reason: reason, problemText: problemText, CODES: CODES,
    STATUS: STATUS, EVENTS: EVENTS, euro: euro, date: date, dateTime: dateTime, number: number, el: el,
    clear: clear, notify: notify, clearFieldErrors: clearFieldErrors, fieldError: fieldError, uuid: uuid,
    takeTokenFromFragment: takeTokenFromFragment, cognitoLoginUrl: cognitoLoginUrl, mintDevToken: mintDevToken
  };
})();
