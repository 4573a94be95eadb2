/* Cart forms without a page reload: "add to cart", a line's quantity, remove and empty are
 * sent to the JSON API with fetch; the answer (the whole cart) redraws the badge and lines.
 * Without this script the same forms post normally and the server redirects back.
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  if (!live) return;

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

  function showError(form, message) {
    const box = document.getElementById("cart-message");
    if (box && form.closest("#cart")) {
      box.textContent = message;
      box.hidden = false;
    } else {
      live.notify(message, "error");
    }
  }

  function clearError() {
    const box = document.getElementById("cart-message");
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  function titleOf(cart, pid) {
    const line = cart.products.find(function (item) {
      return item.product._id === pid;
    });
    return line ? line.product.title : "the product";
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
        showError(form, (answer && answer.error) || "Something went wrong (" + response.status + ").");
        return;
      }
      clearError();
      live.renderCart(answer.payload);
      if (call.kind === "add") live.notify("Added " + titleOf(answer.payload, call.pid) + " to your cart.", "success");
    } catch (error) {
      showError(form, "The shop could not be reached. Check the connection and try again.");
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
    if (call.body && !(Number.isInteger(call.body.quantity) && call.body.quantity >= 1)) {
      event.preventDefault();
      showError(form, "quantity: must be a whole number of at least 1");
      return;
    }
    event.preventDefault();
    submit(form, call);
  });
})();
