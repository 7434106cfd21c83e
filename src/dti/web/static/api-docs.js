// Starts Swagger UI (static/vendor, see SOURCES.md) on the API docs page.  A file of the site,
// not an inline script, so the page keeps the strict Content-Security-Policy.  The OpenAPI
// address comes from the page (the static export rewrites it to a relative path); the online
// validator badge is off, so nothing is asked of another host.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-openapi"),
    domNode: root,
    validatorUrl: null,
    deepLinking: false,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
}());
