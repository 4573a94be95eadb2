/* The order pages, live: a status change (`order.updated`) relabels the order's badge
 * wherever it is shown, and the ticket offers to print itself.
 */
(function () {
  "use strict";

  const live = window.ShopLive;

  function word(status) {
    const template = document.getElementById("status-words");
    const found = template && template.content.querySelector('[data-status="' + CSS.escape(status) + '"]');
    return found ? found.textContent : status;
  }

  function orderUpdated(order) {
    document.querySelectorAll('[data-order-id="' + CSS.escape(order._id) + '"]').forEach(function (root) {
      const changed = root.querySelector(".order-status");
      if (!changed || changed.dataset.status === order.status) return;
      changed.dataset.status = order.status;
      changed.textContent = word(order.status);
      changed.classList.remove("changed");
      void changed.offsetWidth; // restart the highlight
      changed.classList.add("changed");
      // The forms were drawn for the old status: the cancel goes once it is not placed,
      // the admin's choices are stale and the page says so.
      root.querySelectorAll(".cancel-order-form").forEach(function (form) {
        form.hidden = order.status !== "placed";
      });
      root.querySelectorAll(".status-form").forEach(function (form) {
        form.hidden = true;
        const note = document.getElementById("order-changed");
        if (note) note.hidden = false;
      });
    });
  }

  if (live) {
    live.on(function (message) {
      if (message.type === "order.updated" && message.order) orderUpdated(message.order);
    });
  }

  const print = document.getElementById("print-order");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () {
      window.print();
    });
  }
})();
