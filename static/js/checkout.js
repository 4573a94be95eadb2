/* Buying the cart without leaving its page: "Buy" opens a confirmation showing the total;
 * confirming sends the purchase to the JSON API with the total the shopper saw and an
 * Idempotency-Key, so a double click or a retry after a lost answer buys once.
 *
 * Without this script "Buy" opens the confirmation page (/carts/:cid/checkout), whose form
 * carries the same total and a key of its own. Words come from the page (translated there).
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  const section = document.getElementById("cart");
  const form = document.getElementById("buy-form");
  const panel = document.getElementById("buy-confirm");
  if (!live || !section || !form || !panel) return;

  const confirmButton = document.getElementById("buy-confirm-button");
  const cancelButton = document.getElementById("buy-cancel");
  const errorBox = document.getElementById("buy-error");
  const result = document.getElementById("purchase-result");
  const words = panel.dataset;

  // One key per confirmation: retrying the same confirmation reuses it, a new one gets a
  // new key (it may be for another total, and a key must never change its body).
  let key = null;
  let total = null;

  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function open() {
    key = newKey();
    total = section.dataset.purchasableTotal; // a plain amount: "1499.99"
    panel.querySelectorAll(".confirm-total").forEach(function (element) {
      element.textContent = live.money(total);
    });
    showError("");
    result.hidden = true;
    panel.hidden = false;
    confirmButton.focus();
  }

  function close() {
    panel.hidden = true;
    key = null;
    document.getElementById("buy-button").focus();
  }

  function placed(answer) {
    const order = answer.order;
    if (!answer.unfilled.length) {
      location.assign("/orders/" + encodeURIComponent(order._id));
      return;
    }
    // Some lines stay: say so here, where they are marked with their reasons.
    panel.hidden = true;
    live.renderCart(answer.cart);
    result.replaceChildren();
    const first = document.createElement("p");
    first.textContent = (result.dataset.textPlaced || "").replace("{code}", order.code) + " ";
    const link = document.createElement("a");
    link.href = "/orders/" + encodeURIComponent(order._id);
    link.textContent = result.dataset.textSee || "";
    first.append(link);
    const second = document.createElement("p");
    second.textContent = result.dataset.textLeft || "";
    result.append(first, second);
    result.hidden = false;
  }

  async function buy() {
    confirmButton.disabled = true;
    confirmButton.setAttribute("aria-busy", "true");
    try {
      const url = "/api/carts/" + encodeURIComponent(section.dataset.cartId) + "/purchase";
      const response = await live.fetchJSON(url, {
        method: "POST",
        headers: { "Idempotency-Key": key },
        json: { expected_total: Number(total) },
      });
      const answer = response.body;
      if (response.status === 401) {
        location.assign("/login?next=" + encodeURIComponent(location.pathname));
        return;
      }
      if (response.status === 201 && answer && answer.status === "success") {
        placed(answer.payload);
        return;
      }
      // A refusal (4xx) is settled: trying again is a new purchase, with a new key. After a
      // server error the same key is kept: a retry can never buy twice.
      if (response.status < 500) key = newKey();
      if (response.status === 409 && answer && answer.total !== undefined) {
        total = Number(answer.total).toFixed(2);
        panel.querySelectorAll(".confirm-total").forEach(function (element) {
          element.textContent = live.money(total);
        });
        showError((words.textChanged || "").replace("{total}", live.money(total)));
      } else if (response.status === 409 && answer && answer.unfilled) {
        showError(words.textNothing || "");
      } else {
        showError((answer && answer.error) || String(response.status));
      }
      live.refreshCart();
    } catch (error) {
      // The answer was lost, not the purchase perhaps: a retry with the same key is safe.
      showError(words.textOffline || "");
    } finally {
      confirmButton.disabled = false;
      confirmButton.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    open();
  });
  confirmButton.addEventListener("click", buy);
  cancelButton.addEventListener("click", close);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
})();
