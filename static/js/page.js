/* What every page does: flash messages close on a click and by themselves after a few
 * seconds (longer for errors; never while pointed at or focused), and the phone's menu
 * closes on Escape or a click elsewhere. Other scripts show messages with ShopFlash.show().
 *
 * Without JavaScript the stylesheet fades the messages out by itself.
 */
(function () {
  "use strict";

  const { t } = window.ShopText;
  const box = document.getElementById("flashes");
  const LIFETIME = { success: 5000, info: 6000, error: 10000 };
  const MAX_SHOWN = 3;

  function close(item) {
    if (!item.isConnected) return;
    clearTimeout(item._closeTimer);
    item.classList.add("is-closing");
    // Removed once faded out; at once when motion is reduced (no transition runs).
    const remove = function () {
      item.remove();
    };
    item.addEventListener("transitionend", remove, { once: true });
    setTimeout(remove, 400);
  }

  function schedule(item) {
    clearTimeout(item._closeTimer);
    const category = (item.className.match(/flash-(\w+)/) || [])[1] || "info";
    item._closeTimer = setTimeout(function () {
      close(item);
    }, LIFETIME[category] || LIFETIME.info);
  }

  function adopt(item) {
    // Scripted now: the stylesheet's own fade-out gives way to these timers.
    item.classList.add("is-scripted");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "flash-close";
    button.setAttribute("aria-label", box.dataset.closeLabel || t("Close the message"));
    button.textContent = "×";
    item.append(button);
    item.addEventListener("click", function () {
      close(item);
    });
    // Reading a message keeps it: the timer starts again once the pointer or focus leaves.
    item.addEventListener("mouseenter", function () {
      clearTimeout(item._closeTimer);
    });
    item.addEventListener("focusin", function () {
      clearTimeout(item._closeTimer);
    });
    item.addEventListener("mouseleave", function () {
      schedule(item);
    });
    item.addEventListener("focusout", function () {
      schedule(item);
    });
    schedule(item);
  }

  function show(message, category) {
    if (!box) return;
    const item = document.createElement("p");
    item.className = "flash flash-" + (category || "info");
    if (category === "error") item.setAttribute("role", "alert");
    item.textContent = message;
    box.append(item);
    adopt(item);
    while (box.children.length > MAX_SHOWN) box.firstElementChild.remove();
  }

  if (box) Array.from(box.children).forEach(adopt);

  // The phone's menu (a <details>): Escape or a click outside closes it.
  const menu = document.querySelector("details.menu");
  if (menu) {
    document.addEventListener("click", function (event) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  }

  window.ShopFlash = { show: show, close: close };
})();
