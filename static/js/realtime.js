/* The admin's controls on /realtimeproducts: creating and deleting products is sent over
 * the websocket; the server answers "ack" or "error", shown next to the form. The list
 * itself changes through the product events that live.js applies for everyone.
 *
 * "Delete" asks first, in place on the card; without JavaScript it is a link to the
 * confirmation page (/products/:pid/delete).
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  const { t } = window.ShopText;
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
      showError(t("This product is too long to send: shorten the description or thumbnails."));
      return;
    }
    if (!live.send(message)) {
      showError(t("Not connected to the live updates; wait a moment and try again."));
    }
  });

  /* The question, in place of the card's actions: "Delete Yerba mate? Delete / Keep it". */
  function ask(card, link) {
    const actions = link.closest(".card-actions");
    if (!actions || actions.querySelector(".confirm-inline")) return;
    const title = card.querySelector(".product-title");
    const question = document.createElement("div");
    question.className = "confirm-inline";
    question.setAttribute("role", "group");
    const text = document.createElement("span");
    text.className = "confirm-question";
    text.textContent = t("Delete {title}?", { title: title ? title.textContent : "" });
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "button button-danger button-small confirm-delete";
    yes.textContent = t("Delete");
    const no = document.createElement("button");
    no.type = "button";
    no.className = "button button-ghost button-small";
    no.textContent = t("Keep it");
    question.append(text, yes, no);
    link.hidden = true;
    actions.append(question);
    no.focus();
    no.addEventListener("click", function () {
      question.remove();
      link.hidden = false;
      link.focus();
    });
    yes.addEventListener("click", function () {
      if (live.send({ type: "product.delete", pid: card.dataset.productId })) {
        yes.disabled = true;
        no.disabled = true;
      } else {
        showError(t("Not connected to the live updates; wait a moment and try again."));
      }
    });
  }

  document.addEventListener("click", function (event) {
    const link = event.target instanceof Element ? event.target.closest("a.delete-product") : null;
    if (!link) return;
    const card = link.closest("[data-product-id]");
    if (!card) return;
    event.preventDefault();
    ask(card, link);
  });

  live.on(function (message) {
    if (message.type === "ack") {
      const action = String(message.action || "");
      if (action.includes("create")) {
        form.reset();
        const pager = document.querySelector(".pager");
        const last = !pager || Number(pager.dataset.page) >= Number(pager.dataset.totalPages);
        // New products come last: on an earlier page the list does not change.
        showStatus(last ? t("Product created.") : t("Product created; it is listed on the last page."));
      } else if (action.includes("delete")) {
        showStatus(t("Product deleted."));
      }
    } else if (message.type === "error") {
      showError(String(message.error || t("The server refused the request.")));
      // A refused delete leaves its card in place: let the admin try again.
      document.querySelectorAll(".confirm-delete:disabled").forEach(function (button) {
        button.closest(".confirm-inline").querySelectorAll("button").forEach(function (each) {
          each.disabled = false;
        });
      });
    }
  });
})();
