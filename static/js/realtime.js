/* The admin's controls on /realtimeproducts: creating and deleting products is sent over
 * the websocket; the server answers "ack" or "error", shown next to the form. The list
 * itself changes through the product events that live.js applies for everyone.
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  const form = document.getElementById("create-product-form");
  if (!live || !form) return;

  // The server closes a socket sent a bigger message (shop/routes/ws.py MAX_MESSAGE).
  const MAX_MESSAGE_BYTES = 4096;
  const errorBox = document.getElementById("create-product-error");
  const statusBox = document.getElementById("create-product-status");
  let statusTimer = null;

  function showError(message) {
    statusBox.hidden = true;
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function showStatus(message) {
    errorBox.hidden = true;
    errorBox.textContent = "";
    statusBox.textContent = message;
    statusBox.hidden = false;
    clearTimeout(statusTimer);
    statusTimer = setTimeout(function () {
      statusBox.hidden = true;
    }, 4000);
  }

  /* The form as the body POST /api/products takes; empty number fields are left out so
     the server names them as required. */
  function readProduct() {
    const data = new FormData(form);
    const text = function (name) {
      return String(data.get(name) || "");
    };
    const product = {
      title: text("title").trim(),
      description: text("description"),
      code: text("code").trim(),
      category: text("category").trim(),
      status: form.elements.status.checked,
      thumbnails: text("thumbnails")
        .split(/[\r\n]+/)
        .map(function (line) {
          return line.trim();
        })
        .filter(Boolean),
    };
    ["price", "stock"].forEach(function (name) {
      const raw = text(name).trim();
      if (raw !== "") product[name] = Number(raw);
    });
    return product;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const message = { type: "product.create", product: readProduct() };
    if (new Blob([JSON.stringify(message)]).size > MAX_MESSAGE_BYTES) {
      showError("This product is too long to send: shorten the description or thumbnails.");
      return;
    }
    if (!live.send(message)) {
      showError("Not connected to the live updates; wait a moment and try again.");
    }
  });

  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest(".delete-product") : null;
    if (!button) return;
    const card = button.closest("[data-product-id]");
    if (!card) return;
    if (live.send({ type: "product.delete", pid: card.dataset.productId })) {
      button.disabled = true;
    } else {
      showError("Not connected to the live updates; wait a moment and try again.");
    }
  });

  live.on(function (message) {
    if (message.type === "ack") {
      const action = String(message.action || "");
      if (action.includes("create")) {
        form.reset();
        const grid = document.getElementById("product-grid");
        const shownHere = grid && grid.dataset.liveAppend === "true";
        // New products come last: on an earlier page the list does not change.
        showStatus(shownHere ? "Product created." : "Product created; it is listed on the last page.");
      } else if (action.includes("delete")) {
        showStatus("Product deleted.");
      }
    } else if (message.type === "error") {
      showError(String(message.error || "The server refused the request."));
      // A refused delete leaves its card in place: let the admin try again.
      document.querySelectorAll(".delete-product:disabled").forEach(function (button) {
        button.disabled = false;
      });
    }
  });
})();
