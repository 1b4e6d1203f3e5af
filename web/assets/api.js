/* api.html: the served OpenAPI document in Swagger UI (bundled in web/vendor, no CDN). */
(function () {
  "use strict";
  var api = String((window.APP_CONFIG || {}).apiUrl || "").replace(/\/$/, "");
  var url = api + "/openapi.json";
  document.getElementById("openapi-link").href = url;
  if (typeof window.SwaggerUIBundle !== "function") {
    document.getElementById("status").textContent = "Swagger UI kon niet worden geladen.";
    return;
  }
  // Swagger UI renders late and leaves its server picker unlabelled: label it when it appears
  new MutationObserver(function () {
    var servers = document.getElementById("servers");
    if (servers && !servers.getAttribute("aria-label")) servers.setAttribute("aria-label", "Server");
  }).observe(document.getElementById("swagger"), { childList: true, subtree: true });
  window.ui = window.SwaggerUIBundle({
    url: url,
    dom_id: "#swagger",
    deepLinking: false, // a deep link inside the row's toggle button is a nested control (axe: nested-interactive)
    tryItOutEnabled: false,
    // the document's servers may not name this stage: try-it-out goes to the configured API
    requestInterceptor: function (request) { return request; },
    onComplete: function () {
      var spec = window.ui && window.ui.specSelectors ? window.ui.specSelectors.specJson().toJS() : null;
      if (spec && !(spec.servers || []).length) window.ui.specActions.updateJsonSpec(Object.assign(spec, { servers: [{ url: api }] }));
    }
  });
})();
