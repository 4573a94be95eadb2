/* Cart forms without a page reload: "add to cart", a line's quantity, remove and empty are
 * sent to the JSON API with fetch; the answer (the whole cart) redraws the badge and lines.
 * A refused quantity is said next to its field, naming the product and what is possible.
 * "Empty the cart" asks first, in place. Without this script the same forms post normally,
 * the server redirects back, and emptying asks on a page of its own.
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  if (!live) return;
  const { t } = window.ShopText;
  const MAX_QUANTITY = 10000; // shop.models.carts.MAX_QUANTITY

  const LINE = /^\/carts\/([0-9a-f]{24})\/(add|set|remove)\/([0-9a-f]{24})$/;
  const CLEAR = /^\/carts\/([0-9a-f]{24})\/clear$/;

  /* The API call a cart form stands for, or null for any other form. */
  function apiCall(form) {
    const path = new URL(form.action, location.href).pathname;
    let match = LINE.exec(path);
    if (match) {
      const url = "/api/carts/" + match[1] + "/product/" + match[3];
      const input = form.querySelector('[name="quantity"]');
      const quantity = input ? Number(input.value) : 1;
      if (match[2] === "add") return { method: "POST", url: url, body: { quantity: quantity }, kind: "add", pid: match[3] };
      if (match[2] === "set") return { method: "PUT", url: url, body: { quantity: quantity }, kind: "set", pid: match[3] };
      return { method: "DELETE", url: url, body: null, kind: "remove", pid: match[3] };
    }
    match = CLEAR.exec(path);
    if (match) return { method: "DELETE", url: "/api/carts/" + match[1], body: null, kind: "clear" };
    return null;
  }

  /* The note under the form's quantity field, when it has one. */
  function noteOf(form) {
    const holder = form.closest("td, .detail-form") || form;
    return holder.querySelector(".field-note");
  }

  function showError(form, message, field) {
    const note = field ? noteOf(form) : null;
    if (note) {
      note.textContent = message;
      note.hidden = false;
      const input = form.querySelector('[name="quantity"]');
      if (input) input.setAttribute("aria-invalid", "true");
      return;
    }
    const box = document.getElementById("cart-message");
    if (box && form.closest("#cart")) {
      box.textContent = message;
      box.hidden = false;
    } else {
      live.notify(field ? t("Not added: {reason}", { reason: message }) : message, "error");
    }
  }

  function clearError(form) {
    const box = document.getElementById("cart-message");
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
    const note = noteOf(form);
    if (note) {
      note.hidden = true;
      note.textContent = "";
    }
    const input = form.querySelector('[name="quantity"]');
    if (input) input.removeAttribute("aria-invalid");
  }

  function titleOf(cart, pid) {
    const line = cart.products.find(function (item) {
      return item.product._id === pid;
    });
    return line ? line.product.title : "";
  }

  async function submit(form, call) {
    const buttons = Array.from(form.querySelectorAll("button"));
    const wasDisabled = buttons.map(function (button) {
      return button.disabled;
    });
    buttons.forEach(function (button) {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    });
    try {
      const options = {
        method: call.method,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      };
      if (call.body) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(call.body);
      }
      const response = await fetch(call.url, options);
      if (response.status === 401) {
        location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
        return;
      }
      let answer = null;
      try {
        answer = await response.json();
      } catch (error) {
        answer = null;
      }
      if (!response.ok || !answer || answer.status !== "success") {
        const message = (answer && answer.error) || t("Something went wrong ({status}).", { status: response.status });
        // "quantity: only 40 of Yerba mate in stock" goes next to the quantity, without
        // the field's name (the server's words are in the page's language already).
        const aboutQuantity = message.startsWith("quantity: ");
        showError(form, aboutQuantity ? message.slice("quantity: ".length) : message, aboutQuantity);
        return;
      }
      clearError(form);
      live.renderCart(answer.payload);
      if (call.kind === "add") {
        live.notify(t("Added {title} to your cart.", { title: titleOf(answer.payload, call.pid) }), "success");
      }
    } catch (error) {
      showError(form, t("The shop could not be reached. Check the connection and try again."));
    } finally {
      buttons.forEach(function (button, index) {
        button.disabled = wasDisabled[index];
        button.removeAttribute("aria-busy");
      });
    }
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const call = apiCall(form);
    if (!call) return;
    const quantity = call.body ? call.body.quantity : 1;
    if (!(Number.isInteger(quantity) && quantity >= 1 && quantity <= MAX_QUANTITY)) {
      event.preventDefault();
      showError(form, t("Enter a whole number from 1 to {most}.", { most: window.ShopText.number(MAX_QUANTITY) }), true);
      return;
    }
    event.preventDefault();
    if (call.kind === "clear") hideClearQuestion();
    submit(form, call);
  });

  // "Empty the cart" asks first, in place: the link (to the question's own page) opens the
  // question, whose form is the one that empties.
  const clearLink = document.getElementById("clear-cart");
  const clearForm = document.getElementById("clear-cart-form");

  function hideClearQuestion() {
    if (!clearForm || clearForm.hidden) return;
    clearForm.hidden = true;
    clearLink.hidden = false;
  }

  if (clearLink && clearForm) {
    clearLink.addEventListener("click", function (event) {
      event.preventDefault();
      clearLink.hidden = true;
      clearForm.hidden = false;
      document.getElementById("clear-cart-cancel").focus();
    });
    document.getElementById("clear-cart-cancel").addEventListener("click", function () {
      hideClearQuestion();
      clearLink.focus();
    });
  }
})();
