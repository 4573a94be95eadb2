/* The back office's order pages, live. An admin's socket gets every order's events
 * (`order.updated`): a status change relabels the order and redraws its buttons wherever it
 * is shown; a new order joins the top of the first page of the list when it matches the
 * filters. The buttons are the page's own forms (cloned from a <template>), so they post
 * exactly as without JavaScript.
 */
(function () {
  "use strict";

  const live = window.ShopLive;
  if (!live) return;

  const table = document.getElementById("admin-orders");
  const detail = document.getElementById("admin-order");
  const holder = table || detail;
  if (!holder) return;
  const nextStatuses = JSON.parse(holder.dataset.next || "{}");

  function byOrder(oid) {
    return '[data-order-id="' + CSS.escape(oid) + '"]';
  }

  function word(status) {
    const template = document.getElementById("status-words");
    const found = template && template.content.querySelector('[data-status="' + CSS.escape(status) + '"]');
    return found ? found.textContent : status;
  }

  function highlight(element) {
    element.classList.remove("changed");
    void element.offsetWidth; // restart the highlight
    element.classList.add("changed");
  }

  /* The order's buttons, for the statuses it may move to now. */
  function drawActions(container, order) {
    const templates = document.getElementById("order-action-templates");
    if (!container || !templates) return;
    container.replaceChildren();
    (nextStatuses[order.status] || []).forEach(function (status) {
      const model = templates.content.querySelector('.order-action[data-status="' + CSS.escape(status) + '"]');
      if (!model) return;
      const form = model.cloneNode(true);
      form.action = "/admin/orders/" + encodeURIComponent(order._id) + "/status";
      container.append(form);
    });
    const none = document.getElementById("no-actions");
    if (none && detail) none.hidden = container.children.length > 0;
  }

  function fillStatus(root, order) {
    const badge = root.querySelector(".order-status");
    if (badge && badge.dataset.status !== order.status) {
      badge.dataset.status = order.status;
      badge.textContent = word(order.status);
      highlight(badge);
    }
    drawActions(root.querySelector(".order-actions"), order);
  }

  function matchesFilters(order) {
    const wanted = table.dataset;
    return (
      (!wanted.status || wanted.status === order.status) &&
      (!wanted.buyer || wanted.buyer === String(order.purchaser).toLowerCase()) &&
      (!wanted.user || wanted.user === order.user)
    );
  }

  function newRow(order) {
    const template = document.getElementById("order-row-template");
    if (!template) return null;
    const row = template.content.firstElementChild.cloneNode(true);
    row.dataset.orderId = order._id;
    const code = row.querySelector(".order-code");
    code.textContent = order.code;
    code.href = "/admin/orders/" + encodeURIComponent(order._id);
    const date = row.querySelector(".order-date");
    date.dateTime = order.purchase_datetime;
    date.textContent = window.ShopText.moment(order.purchase_datetime);
    const buyer = row.querySelector(".buyer-link");
    // Like the server's rows: the address may break before its "@", nowhere else.
    const at = String(order.purchaser).lastIndexOf("@");
    buyer.replaceChildren(
      String(order.purchaser).slice(0, Math.max(at, 0)),
      document.createElement("wbr"),
      String(order.purchaser).slice(Math.max(at, 0))
    );
    buyer.href = "/admin/orders?buyer=" + encodeURIComponent(order.purchaser);
    const items = order.lines.reduce(function (sum, line) {
      return sum + Number(line.quantity);
    }, 0);
    row.querySelector(".order-items").textContent = window.ShopText.number(items);
    row.querySelector(".order-amount").textContent = live.money(order.amount);
    fillStatus(row, order);
    return row;
  }

  function count(change) {
    const label = document.getElementById("orders-count");
    if (!label) return;
    const total = Number(label.dataset.total || 0) + change;
    label.dataset.total = String(total);
    label.textContent = window.ShopText.nt("{n} order", "{n} orders", total);
  }

  function orderArrived(order) {
    // New orders come first: only the first page shows them.
    if (!table || Number(table.dataset.page) !== 1 || !matchesFilters(order)) return;
    const row = newRow(order);
    if (!row) return;
    const rows = document.getElementById("admin-order-rows");
    rows.prepend(row);
    row.classList.add("is-new");
    while (rows.children.length > Number(table.dataset.limit || Infinity)) rows.lastElementChild.remove();
    document.getElementById("orders-wrap").hidden = false;
    document.getElementById("orders-empty").hidden = true;
    count(1);
  }

  function orderUpdated(order) {
    const shown = document.querySelectorAll(byOrder(order._id));
    shown.forEach(function (root) {
      fillStatus(root, order);
    });
    if (!shown.length && order.status === "placed") orderArrived(order);
  }

  live.on(function (message) {
    if (message.type === "order.updated" && message.order && typeof message.order._id === "string") {
      orderUpdated(message.order);
    }
  });
})();
