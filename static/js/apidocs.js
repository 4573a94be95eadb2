// /apidocs: Swagger UI over the shop's own OpenAPI document. A file of our own, because the
// Content-Security-Policy allows no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    deepLinking: true,
    // The validator badge would send the document to swagger.io: nothing leaves the shop.
    validatorUrl: null,
    // Requests "try it out" sends ride the page's own cookie, like the shop's pages.
    withCredentials: true,
    tryItOutEnabled: false,
  });
});
