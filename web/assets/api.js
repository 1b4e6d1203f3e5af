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
  window.SwaggerUIBundle({
    url: url,
    dom_id: "#swagger",
    deepLinking: true,
    tryItOutEnabled: false,
    // the document's servers may not name this stage: try-it-out goes to the configured API
    requestInterceptor: function (request) { return request; },
    onComplete: function () {
      var spec = window.ui && window.ui.specSelectors ? window.ui.specSelectors.specJson().toJS() : null;
      if (spec && !(spec.servers || []).length) window.ui.specActions.updateJsonSpec(Object.assign(spec, { servers: [{ url: api }] }));
    }
  });
})();
