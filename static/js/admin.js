/* The back office's live touches; every page works without them.
 *
 * Products table: live.js fills each row's title, code, category, price, stock and image
 * from product events (rows carry data-product-id); this script keeps the row's status
 * and low-stock mark current, marks deleted rows, says when new products exist, and after
 * a reconnection fetches the page again to replace the rows it may have missed.
 * Product form: says when the product changes (a newer version than the form shows) or
 * is deleted elsewhere, and refuses a file over the upload limit before sending it.
 */
(function () {
  "use strict";

  const live = window.ShopLive;

  function byProductId(root, pid) {
    return root.querySelector('[data-product-id="' + CSS.escape(pid) + '"]');
  }

  /* Whether `element` shows the version of `product`, or with `newer`, an older one. */
  function shows(element, product, newer) {
    const version = Number(product.version || 0);
    const shown = Number(element.dataset.version || 0);
    return newer ? version > shown : version === shown;
  }

  // ---- the products table ------------------------------------------------------------------

  const rows = document.getElementById("admin-product-rows");
  const added = document.getElementById("products-added");
  const table = document.getElementById("admin-products");
  const lowStock = table ? Number(table.dataset.lowStock) : 0;

  function words(state) {
    const template = document.getElementById("availability-words");
    const word = template && template.content.querySelector('[data-availability="' + state + '"]');
    return word ? word.textContent : state;
  }

  function setAvailability(row, state) {
    row.querySelectorAll(".row-availability").forEach(function (label) {
      label.dataset.availability = state;
      label.textContent = words(state);
    });
  }

  function productChanged(product) {
    const row = rows && byProductId(rows, product._id);
    // live.js has filled the row when the event was newer than it: it shows its version.
    if (!row || row.classList.contains("is-deleted") || !shows(row, product)) return;
    const stock = Number(product.stock);
    const state = product.status === false ? "off_sale" : stock > 0 ? "available" : "sold_out";
    setAvailability(row, state);
    row.querySelectorAll(".row-low").forEach(function (tag) {
      tag.hidden = !(stock > 0 && stock <= lowStock);
    });
  }

  function productDeleted(pid) {
    const row = rows && byProductId(rows, pid);
    if (!row) return;
    row.classList.add("is-deleted");
    setAvailability(row, "deleted");
    row.querySelectorAll("a").forEach(function (link) {
      link.removeAttribute("href");
    });
  }

  /* Events were missed while the socket was down: the page, fetched again, has the rows. */
  async function resyncTable() {
    const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const freshRows = fresh.getElementById("admin-product-rows");
    if (!rows || !freshRows) {
      if (added) added.hidden = false;
      return;
    }
    rows.replaceChildren(...Array.from(freshRows.children, function (row) {
      return document.importNode(row, true);
    }));
    const total = document.getElementById("admin-products-total");
    const freshTotal = fresh.getElementById("admin-products-total");
    if (total && freshTotal) total.textContent = freshTotal.textContent;
  }

  // ---- the product form ----------------------------------------------------------------------

  const editor = document.querySelector("[data-edited-product-id]");
  const editedId = editor ? editor.dataset.editedProductId : "";

  function show(id) {
    const notice = document.getElementById(id);
    if (notice) notice.hidden = false;
  }

  const upload = document.querySelector("form.upload-form");
  if (upload) {
    const input = upload.querySelector('input[type="file"]');
    const error = upload.querySelector(".field-error");
    const most = Number(upload.dataset.maxBytes);
    const tooBig = function () {
      return Boolean(input.files && input.files[0] && input.files[0].size > most);
    };
    input.addEventListener("change", function () {
      const big = tooBig();
      error.hidden = !big;
      if (big) error.textContent = upload.dataset.textTooBig;
      input.setAttribute("aria-invalid", big ? "true" : "false");
    });
    upload.addEventListener("submit", function (event) {
      if (tooBig()) {
        event.preventDefault();
        input.focus();
        return;
      }
      upload.querySelector('button[type="submit"]').setAttribute("aria-busy", "true");
    });
  }

  // ---- events ------------------------------------------------------------------------------------

  if (!live) return;
  let greeted = false;
  live.on(function (message) {
    const product = message.product || {};
    switch (message.type) {
      case "hello":
        // Every connection but the first follows a drop: what was missed is fetched.
        if (greeted && rows) resyncTable().catch(function () {});
        greeted = true;
        break;
      case "product.created":
        if (added) added.hidden = false;
        break;
      case "product.updated":
        productChanged(product);
        // Only a version newer than the one the form shows is someone else's change.
        if (product._id === editedId && shows(editor, product, true)) show("product-changed");
        break;
      case "product.deleted":
        productDeleted(product._id);
        if (product._id === editedId) show("product-gone");
        break;
      default:
        break;
    }
  });
})();
