/* The catalogue's filters apply as soon as one is chosen (the sort, the page size, "only
 * what can be bought now"): the form is sent as it would be with its Apply button, which
 * only pages without JavaScript show (in a <noscript>).
 */
(function () {
  "use strict";

  const form = document.getElementById("filters");
  if (!form) return;
  form.addEventListener("change", function (event) {
    if (event.target instanceof HTMLSelectElement || event.target instanceof HTMLInputElement) {
      form.requestSubmit();
    }
  });
})();
