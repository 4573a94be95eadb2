/* Live updates over the shop's websocket: product cards and details, the cart badge and
 * the cart page change in place as the server announces changes.
 *
 * User text is written only with textContent and attributes (never as HTML). After a
 * reconnection the page resyncs from the JSON API, since events were missed meanwhile.
 * Other scripts use window.ShopLive: send(), on(), renderCart(), refreshCart(), notify(),
 * money(), fetchJSON(). Order events (`order.updated`) reach the listeners added with on().
 */
(function () {
  "use strict";

  const FIRST_DELAY = 500; // ms before the first reconnection attempt
  const MAX_DELAY = 10000; // the backoff never waits longer than this
  const PING_EVERY = 25000;
  const SILENCE_LIMIT = 60000; // no message at all for this long: the socket is dead
  const PLACEHOLDER = "/static/img/placeholder.svg";

  const body = document.body;
  const cartId = body.dataset.cartId || "";
  const listeners = [];

  let socket = null;
  let attempts = 0;
  let retryTimer = null;
  let pingTimer = null;
  let lastHeard = 0;
  let connectedBefore = false;
  let leaving = false;
  let productEvents = 0; // counts product events, so a resync can tell it raced one

  // ---- small helpers ---------------------------------------------------------------------

  function money(value) {
    return Number(value).toFixed(2);
  }

  function byProductId(selector, pid) {
    return selector + '[data-product-id="' + CSS.escape(pid) + '"]';
  }

  function setText(root, selector, value) {
    if (value === undefined || value === null) return;
    root.querySelectorAll(selector).forEach(function (element) {
      element.textContent = String(value);
    });
  }

  function isLocalPath(url) {
    return (
      url.startsWith("/") &&
      !url.startsWith("//") &&
      !url.includes("\\") &&
      !/[\s\u0000-\u001f\u007f]/.test(url)
    );
  }

  // An uploaded image's card size has the same name with ".card" (shop/models/images.py);
  // any other address is shown as it is.
  const UPLOADED = /^\/media\/[0-9a-f]{24}\/[0-9a-f]{16}-[0-9a-f]{8}\.webp$/;

  function cardUrl(url) {
    return typeof url === "string" && UPLOADED.test(url) ? url.replace(/\.webp$/, ".card.webp") : url;
  }

  // The same rule as the server's: a local path or an https address, else the placeholder.
  function imageSrc(url) {
    if (typeof url === "string" && (isLocalPath(url) || (url.startsWith("https://") && !/\s/.test(url)))) {
      return url;
    }
    return PLACEHOLDER;
  }

  function flash(element) {
    element.classList.remove("changed");
    void element.offsetWidth; // restart the highlight animation
    element.classList.add("changed");
  }

  function notify(message, category) {
    const box = document.getElementById("flashes");
    if (!box) return;
    const item = document.createElement("p");
    item.className = "flash flash-" + (category || "info");
    item.textContent = message;
    box.append(item);
    while (box.children.length > 3) box.firstElementChild.remove();
    setTimeout(function () {
      item.remove();
    }, 6000);
  }

  /* Call the JSON API: `{status, ok, body}`, body null when the answer is not JSON.
   * `options` are fetch's; a `json` option is sent as the JSON body. */
  async function fetchJSON(url, options) {
    const settings = Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {});
    settings.headers = Object.assign({ Accept: "application/json" }, settings.headers || {});
    if (settings.json !== undefined) {
      settings.headers["Content-Type"] = "application/json";
      settings.body = JSON.stringify(settings.json);
      delete settings.json;
    }
    const response = await fetch(url, settings);
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    return { status: response.status, ok: response.ok, body: body };
  }

  function getJSON(url) {
    return fetchJSON(url);
  }

  // ---- connection state ------------------------------------------------------------------

  function setStatus(state, text) {
    const status = document.getElementById("live-status");
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  // ---- products ----------------------------------------------------------------------------

  /* Fill one product element (a card or the detail page) from the API's product JSON. */
  function fillProduct(root, product) {
    const pid = product._id;
    root.dataset.productId = pid;
    setText(root, ".product-title", product.title);
    if (product.price !== undefined) setText(root, ".product-price", money(product.price));
    setText(root, ".product-stock", product.stock);
    if (product.stock !== undefined) {
      root.querySelectorAll(".stock").forEach(function (stock) {
        stock.dataset.stock = String(product.stock);
      });
    }
    setText(root, ".product-category", product.category);
    setText(root, ".product-description", product.description);
    setText(root, ".product-code", product.code);
    root.querySelectorAll("a.product-link").forEach(function (link) {
      link.href = "/products/" + encodeURIComponent(pid);
    });
    if (product.thumbnails !== undefined || product.title !== undefined) {
      root.querySelectorAll("img.product-thumb").forEach(function (image) {
        if (product.thumbnails !== undefined) {
          image.src = imageSrc(cardUrl(product.thumbnails.length ? product.thumbnails[0] : ""));
        }
        if (product.title !== undefined) image.alt = product.title;
      });
      root.querySelectorAll(".gallery").forEach(function (gallery) {
        fillGallery(gallery, product);
      });
    }
    const available = product.status !== false;
    root.classList.toggle("is-unavailable", !available);
    root.querySelectorAll(".product-unavailable").forEach(function (label) {
      label.hidden = available;
    });
    root.querySelectorAll("form.add-to-cart-form").forEach(function (form) {
      if (cartId) {
        form.action = "/carts/" + encodeURIComponent(cartId) + "/add/" + encodeURIComponent(pid);
      }
      const button = form.querySelector(".add-to-cart");
      if (button && product.stock !== undefined) {
        button.disabled = Number(product.stock) < 1 || !available;
      }
    });
  }

  /* The product page's images, as product.html renders them: the first large, the others
     as small links to their page size. */
  function fillGallery(gallery, product) {
    const main = gallery.querySelector(".gallery-main");
    const title = product.title !== undefined ? String(product.title) : main ? main.alt : "";
    if (main) main.alt = title;
    if (product.thumbnails === undefined) return;
    const urls = product.thumbnails;
    const first = imageSrc(urls.length ? urls[0] : "");
    if (main && main.getAttribute("src") !== first) main.src = first;
    gallery.querySelectorAll(".gallery-more").forEach(function (link) {
      link.remove();
    });
    urls.slice(1).forEach(function (url, index) {
      const link = document.createElement("a");
      link.className = "gallery-more";
      link.href = imageSrc(url);
      const image = document.createElement("img");
      image.src = imageSrc(cardUrl(url));
      image.alt = title + ", image " + (index + 2);
      image.loading = "lazy";
      image.width = 160;
      image.height = 120;
      link.append(image);
      gallery.append(link);
    });
  }

  function productGrid() {
    return document.getElementById("product-grid");
  }

  function newCard(product) {
    const template = document.getElementById("product-card-template");
    if (!template) return null;
    const card = template.content.firstElementChild.cloneNode(true);
    fillProduct(card, product);
    return card;
  }

  function toggleEmpty() {
    const grid = productGrid();
    const empty = document.getElementById("products-empty");
    if (grid && empty) empty.hidden = grid.children.length > 0;
  }

  function productCreated(product) {
    const grid = productGrid();
    if (!grid) return;
    const existing = grid.querySelector(byProductId("", product._id));
    if (existing) {
      fillProduct(existing, product);
      return;
    }
    if (grid.dataset.liveAppend !== "true") return;
    const limit = Number(grid.dataset.limit || Infinity);
    if (grid.children.length >= limit) return;
    const card = newCard(product);
    if (!card) return;
    card.classList.add("is-new");
    grid.append(card);
    toggleEmpty();
  }

  function productUpdated(product) {
    document.querySelectorAll(byProductId("", product._id)).forEach(function (element) {
      fillProduct(element, product);
      flash(element);
    });
    if (cartHasLine(product._id)) refreshCart();
  }

  function productDeleted(pid) {
    document.querySelectorAll(byProductId("", pid)).forEach(function (element) {
      if (element.closest("#product-grid")) {
        element.remove();
      } else {
        markGone(element);
      }
    });
    toggleEmpty();
    if (cartHasLine(pid)) refreshCart();
  }

  function markGone(element) {
    const notice = document.getElementById("product-gone");
    if (notice) notice.hidden = false;
    element.querySelectorAll(".add-to-cart").forEach(function (button) {
      button.disabled = true;
    });
  }

  /* Make the grid show exactly `products`, in their order, reusing the cards it has. */
  function reconcileGrid(grid, products) {
    const wanted = new Set();
    products.forEach(function (product, index) {
      wanted.add(product._id);
      let card = grid.querySelector(byProductId("", product._id));
      if (card) {
        fillProduct(card, product);
      } else {
        card = newCard(product);
        if (!card) return;
      }
      const current = grid.children[index];
      if (current !== card) grid.insertBefore(card, current || null);
    });
    Array.from(grid.children).forEach(function (card) {
      if (!wanted.has(card.dataset.productId)) card.remove();
    });
    toggleEmpty();
  }

  /* Fetch, and fetch again if a product event arrived meanwhile: the newer answer wins. */
  async function fetchSettled(url) {
    for (let round = 0; round < 3; round += 1) {
      const seen = productEvents;
      const answer = await getJSON(url);
      if (seen === productEvents) return answer;
    }
    return getJSON(url);
  }

  async function resyncProducts() {
    const grid = productGrid();
    if (grid && grid.dataset.source) {
      const answer = await fetchSettled(grid.dataset.source);
      if (answer.ok && answer.body && Array.isArray(answer.body.payload)) {
        reconcileGrid(grid, answer.body.payload);
      }
    }
    const detail = document.querySelector(".product-detail[data-product-id]");
    if (detail) {
      const pid = detail.dataset.productId;
      const answer = await fetchSettled("/api/products/" + encodeURIComponent(pid));
      if (answer.status === 404) {
        markGone(detail);
      } else if (answer.ok && answer.body) {
        fillProduct(detail, answer.body.payload);
      }
    }
  }

  // ---- the cart ------------------------------------------------------------------------------

  function cartSection() {
    return document.getElementById("cart");
  }

  function cartHasLine(pid) {
    const section = cartSection();
    return Boolean(section && section.querySelector('[data-line-product-id="' + CSS.escape(pid) + '"]'));
  }

  function updateBadge(cart) {
    const badge = document.getElementById("cart-badge");
    if (!badge || badge.dataset.cartId !== cart._id) return;
    const count = String(cart.count);
    if (badge.textContent.trim() !== count) {
      badge.textContent = count;
      badge.classList.remove("is-bumped");
      void badge.offsetWidth;
      badge.classList.add("is-bumped");
    }
  }

  function fillLine(row, cid, line) {
    const product = line.product;
    const pid = product._id;
    const base = "/carts/" + encodeURIComponent(cid);
    row.dataset.lineProductId = pid;
    setText(row, ".line-title", product.title);
    row.querySelectorAll("a.line-title").forEach(function (link) {
      link.href = "/products/" + encodeURIComponent(pid);
    });
    setText(row, ".line-price", money(product.price));
    setText(row, ".line-total", money(Number(product.price) * Number(line.quantity)));
    const input = row.querySelector("input.quantity");
    // Never overwrite what the user is typing right now.
    if (input && document.activeElement !== input) input.value = String(line.quantity);
    const setForm = row.querySelector("form.set-line-form");
    if (setForm) setForm.action = base + "/set/" + encodeURIComponent(pid);
    const removeForm = row.querySelector("form.remove-line-form");
    if (removeForm) removeForm.action = base + "/remove/" + encodeURIComponent(pid);
    fillProblem(row, line);
  }

  /* Say on the line why it cannot be bought as it is (the page holds the words). */
  function fillProblem(row, line) {
    const words = cartSection().dataset;
    const problem = line.problem || "";
    let text = "";
    if (problem === "unavailable") text = words.textUnavailable || "";
    else if (problem === "out_of_stock" && Number(line.available) === 0) text = words.textSoldOut || "";
    else if (problem === "out_of_stock") text = (words.textShort || "").replace("{n}", String(line.available));
    row.classList.toggle("has-problem", Boolean(problem));
    row.querySelectorAll(".line-problem").forEach(function (note) {
      note.dataset.problem = problem;
      note.textContent = text;
      note.hidden = !problem;
    });
  }

  /* The Buy button shows what a purchase would cost now; it is off when nothing can be bought. */
  function fillCheckout(section, cart) {
    const total = money(cart.purchasable_total);
    section.dataset.purchasableTotal = total;
    setText(section, "#buy-total, .confirm-total", total);
    const buyable = cart.products.filter(function (line) {
      return !line.problem;
    }).length;
    const button = document.getElementById("buy-button");
    if (button) button.disabled = buyable === 0;
    const note = document.getElementById("purchase-note");
    if (note) note.hidden = buyable === cart.products.length;
  }

  /* Show `cart` (the API's cart JSON): the badge everywhere, the lines on its own page. */
  function renderCart(cart) {
    if (!cart || typeof cart._id !== "string") return;
    updateBadge(cart);
    const section = cartSection();
    if (!section || section.dataset.cartId !== cart._id) return;
    const tbody = document.getElementById("cart-lines");
    const template = document.getElementById("cart-line-template");
    const wanted = new Set();
    cart.products.forEach(function (line, index) {
      const pid = line.product._id;
      wanted.add(pid);
      let row = tbody.querySelector('[data-line-product-id="' + CSS.escape(pid) + '"]');
      if (!row) row = template.content.firstElementChild.cloneNode(true);
      fillLine(row, cart._id, line);
      const current = tbody.children[index];
      if (current !== row) tbody.insertBefore(row, current || null);
    });
    Array.from(tbody.children).forEach(function (row) {
      if (!wanted.has(row.dataset.lineProductId)) row.remove();
    });
    const total = document.getElementById("cart-total");
    if (total) total.textContent = money(cart.total);
    if (cart.purchasable_total !== undefined) fillCheckout(section, cart);
    const empty = cart.products.length === 0;
    ["cart-table", "cart-actions"].forEach(function (id) {
      const element = document.getElementById(id);
      if (element) element.hidden = empty;
    });
    const emptyNote = document.getElementById("cart-empty");
    if (emptyNote) emptyNote.hidden = !empty;
  }

  async function refreshCart() {
    if (!cartId) return;
    const answer = await getJSON("/api/carts/" + encodeURIComponent(cartId));
    if (answer.ok && answer.body) renderCart(answer.body.payload);
  }

  // ---- the socket ----------------------------------------------------------------------------

  function dispatch(message) {
    switch (message.type) {
      case "hello":
        attempts = 0; // the server accepted us: the next drop starts the backoff afresh
        break;
      case "product.created":
        productEvents += 1;
        if (message.product) productCreated(message.product);
        break;
      case "product.updated":
        productEvents += 1;
        if (message.product) productUpdated(message.product);
        break;
      case "product.deleted":
        productEvents += 1;
        if (message.product && message.product._id) productDeleted(message.product._id);
        break;
      case "products.imported": // a catalogue file changed many products at once
        productEvents += 1;
        resyncProducts().catch(function () {});
        break;
      case "cart.updated":
        renderCart(message.cart);
        break;
      default:
        break;
    }
    listeners.forEach(function (listener) {
      try {
        listener(message);
      } catch (error) {
        console.error(error);
      }
    });
  }

  function send(message) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
  }

  function resync() {
    refreshCart().catch(function () {});
    resyncProducts().catch(function () {});
  }

  function startPing() {
    stopPing();
    pingTimer = setInterval(function () {
      if (Date.now() - lastHeard > SILENCE_LIMIT && socket) {
        socket.close();
        return;
      }
      send({ type: "ping" });
    }, PING_EVERY);
  }

  function stopPing() {
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = null;
  }

  function scheduleReconnect() {
    if (leaving || retryTimer) return;
    const ceiling = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** attempts);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // jitter spreads the herd
    attempts += 1;
    setStatus("closed", "Offline, retrying in " + Math.max(1, Math.round(delay / 1000)) + " s");
    retryTimer = setTimeout(function () {
      retryTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    if (leaving) return;
    setStatus("connecting", "Connecting…");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let ws;
    try {
      ws = new WebSocket(scheme + "//" + location.host + "/ws");
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket = ws;
    // Missed events since the page was rendered (or since the last drop) are fetched anew,
    // except on the very first connection of a freshly rendered page.
    const needsResync = connectedBefore || attempts > 0;
    ws.addEventListener("open", function () {
      lastHeard = Date.now();
      connectedBefore = true;
      setStatus("open", "Live");
      send({ type: "subscribe", topics: body.dataset.userId ? ["products", "cart", "orders"] : ["products"] });
      startPing();
      if (needsResync) resync();
    });
    ws.addEventListener("message", function (event) {
      lastHeard = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message && typeof message.type === "string") dispatch(message);
    });
    ws.addEventListener("close", function () {
      if (socket !== ws) return;
      socket = null;
      stopPing();
      scheduleReconnect();
    });
  }

  window.addEventListener("pagehide", function () {
    leaving = true;
    stopPing();
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return; // restored from the back-forward cache: reconnect
    leaving = false;
    attempts = 0;
    connectedBefore = true;
    connect();
  });
  window.addEventListener("online", function () {
    if (socket || !retryTimer) return;
    clearTimeout(retryTimer);
    retryTimer = null;
    connect();
  });

  // A thumbnail that fails to load shows the placeholder instead (no inline onerror: CSP).
  document.addEventListener(
    "error",
    function (event) {
      const image = event.target;
      if (image instanceof HTMLImageElement && !image.src.endsWith(PLACEHOLDER)) {
        image.src = PLACEHOLDER;
      }
    },
    true
  );

  window.ShopLive = {
    send: send,
    on: function (listener) {
      listeners.push(listener);
    },
    renderCart: renderCart,
    refreshCart: refreshCart,
    notify: notify,
    money: money,
    fetchJSON: fetchJSON,
    cartId: cartId,
  };

  connect();
})();
