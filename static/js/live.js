/* Live updates over the shop's websocket: product cards and details, the cart badge and
 * the cart page change in place as the server announces changes.
 *
 * User text is written only with textContent and attributes (never as HTML). After a
 * reconnection, or when the server says events were missed ("resync"), the page refetches
 * from the JSON API. Products and carts carry a version that grows with every write: an
 * event or answer older than what the page shows is ignored, so a late event (from
 * another server process) never undoes a newer one.
 * A listing stays consistent: after a product is created or deleted (or changed, on a
 * filtered listing) it refetches its page, so a deleted card's place is filled from the
 * next page, and redraws its count and page links. The cart badge refetches the cart when
 * one of its products changes or goes.
 * Other scripts use window.ShopLive: send(), on(), renderCart(), refreshCart(), notify(),
 * money(), fetchJSON(). Order events (`order.updated`) reach the listeners added with on().
 * Words come from window.ShopText (static/js/text.js).
 */
(function () {
  "use strict";

  const FIRST_DELAY = 500; // ms before the first reconnection attempt
  const MAX_DELAY = 10000; // the backoff never waits longer than this
  const PING_EVERY = 25000;
  const SILENCE_LIMIT = 60000; // no message at all for this long: the socket is dead
  const PLACEHOLDER = "/static/img/placeholder.svg";
  const RESYNC_SPREAD = 1000; // ms: pages told to resync at once do not all fetch at once
  const LOW_STOCK = 5; // shop.models.products.LOW_STOCK: "only 3 left" from here down
  // A listing refetches its page this long after the last product event of a burst, plus up
  // to SPREAD more, so the pages open everywhere do not all ask at the same moment.
  const SETTLE = 250;
  const SPREAD = 750;
  const { t, nt } = window.ShopText;

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
  const gone = new Set(); // deleted products: nothing later brings them back
  // The cart's version as shown; the lower of the two reads a page was rendered from.
  let cartVersion = Math.min(
    Number(body.dataset.cartVersion || 0),
    Number((document.getElementById("cart") || body).dataset.version || Infinity)
  );

  // ---- small helpers ---------------------------------------------------------------------

  const money = window.ShopText.money;

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

  /* True when `product` is newer than what `element` shows (or as new, with orSame). */
  function isNewer(product, element, orSame) {
    const shown = Number(element.dataset.version || 0);
    const version = Number(product.version || 0);
    return orSame ? version >= shown : version > shown;
  }

  function flash(element) {
    element.classList.remove("changed");
    void element.offsetWidth; // restart the highlight animation
    element.classList.add("changed");
  }

  function notify(message, category) {
    if (window.ShopFlash) window.ShopFlash.show(message, category);
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
    // The words are the page's language's; the state drives the dot's colour.
    const status = document.getElementById("live-status");
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }

  // ---- products ----------------------------------------------------------------------------

  /* Whether a product can be bought, in words, as _macros.html's `availability` says it. */
  function fillAvailability(root, product) {
    if (product.stock === undefined && product.status === undefined) return;
    root.querySelectorAll(".availability").forEach(function (label) {
      const stock = Number(product.stock);
      let state = "in_stock";
      let text = t("In stock");
      if (product.status === false) {
        state = "unavailable";
        text = t("Unavailable");
      } else if (stock < 1) {
        state = "sold_out";
        text = t("Sold out");
      } else if (stock <= LOW_STOCK) {
        state = "low";
        text = nt("Only {n} left", "Only {n} left", stock);
      } else if (label.dataset.showCount === "true") {
        text = nt("{n} in stock", "{n} in stock", stock);
      }
      label.dataset.availability = state;
      label.textContent = text;
    });
  }

  /* Fill one product element (a card or the detail page) from the API's product JSON. */
  function fillProduct(root, product) {
    const pid = product._id;
    root.dataset.productId = pid;
    if (product.version !== undefined) root.dataset.version = String(product.version);
    setText(root, ".product-title", product.title);
    if (product.price !== undefined) setText(root, ".product-price", money(product.price));
    fillAvailability(root, product);
    // The back office's stock cell (templates/admin/products.html).
    if (product.stock !== undefined) {
      setText(root, ".product-stock", window.ShopText.number(Number(product.stock)));
    }
    setText(root, ".product-category", product.category);
    setText(root, ".product-description", product.description);
    setText(root, ".product-code", product.code);
    root.querySelectorAll("a.product-link").forEach(function (link) {
      link.href = "/products/" + encodeURIComponent(pid);
    });
    root.querySelectorAll("a.delete-product").forEach(function (link) {
      const here = location.pathname + location.search;
      link.href = "/products/" + encodeURIComponent(pid) + "/delete?next=" + encodeURIComponent(here);
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
    const onSale = product.status !== false;
    root.classList.toggle("is-unavailable", !onSale);
    root.querySelectorAll("form.add-to-cart-form").forEach(function (form) {
      if (cartId) {
        form.action = "/carts/" + encodeURIComponent(cartId) + "/add/" + encodeURIComponent(pid);
      }
      const button = form.querySelector(".add-to-cart");
      if (button && product.stock !== undefined) {
        button.disabled = Number(product.stock) < 1 || !onSale;
      }
    });
  }

  /* The product page's images, as product.html renders them: the first large, the others
     as small links to their page size. */
  function fillGallery(gallery, product) {
    const altMore = gallery.dataset.altMore || "{title}, image {n}";
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
      image.alt = altMore.replace("{title}", title).replace("{n}", String(index + 2));
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
    if (!grid || gone.has(product._id)) return;
    const existing = grid.querySelector(byProductId("", product._id));
    if (existing && isNewer(product, existing, false)) fillProduct(existing, product);
    // Where a new product belongs (if on this page at all) is the listing's to say.
    scheduleListingResync();
  }

  function productUpdated(product) {
    if (gone.has(product._id)) return;
    let shown = false;
    document.querySelectorAll(byProductId("", product._id)).forEach(function (element) {
      if (!isNewer(product, element, false)) return;
      fillProduct(element, product);
      flash(element);
      shown = shown || Boolean(element.closest("#product-grid"));
    });
    const grid = productGrid();
    // A filtered or sorted listing may gain or lose it; a shopper's loses it off sale.
    if (grid && (grid.dataset.filtered === "true" || (shown && product.status === false))) {
      scheduleListingResync();
    }
    // A cart line shows the product's version it was rendered with (it is no card); the
    // badge knows only which products the cart holds.
    const line = cartLine(product._id);
    if (line ? isNewer(product, line, false) : cartHolds(product._id)) scheduleCartRefresh();
  }

  function productDeleted(pid) {
    gone.add(pid);
    document.querySelectorAll(byProductId("", pid)).forEach(function (element) {
      if (element.closest("#product-grid")) {
        element.remove();
      } else {
        markGone(element);
      }
    });
    toggleEmpty();
    // The next page's first product moves up into the place, and the count goes down.
    if (productGrid()) scheduleListingResync();
    if (cartHolds(pid)) scheduleCartRefresh();
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
    products.forEach(function (product) {
      if (gone.has(product._id)) return;
      wanted.add(product._id);
      let card = grid.querySelector(byProductId("", product._id));
      if (card) {
        if (isNewer(product, card, true)) fillProduct(card, product);
      } else {
        card = newCard(product);
        if (!card) return;
      }
      const current = grid.children[wanted.size - 1];
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

  /* The listing's count ("12 products") and page links, from the API's listing answer. */
  function fillListing(listing) {
    const total = document.getElementById("products-total");
    if (total && typeof listing.totalDocs === "number") {
      total.dataset.total = String(listing.totalDocs);
      total.textContent =
        listing.totalDocsExact === false
          ? t("More than {n} products", { n: window.ShopText.number(listing.totalDocs) })
          : nt("{n} product", "{n} products", listing.totalDocs);
    }
    const pager = document.querySelector(".pager");
    if (pager && typeof listing.totalPages === "number") renderPager(pager, listing.page, listing.totalPages);
    const empty = document.getElementById("products-empty");
    if (empty) empty.hidden = listing.payload.length > 0 || listing.page > listing.totalPages;
  }

  function pageHref(number) {
    const url = new URL(location.href);
    url.searchParams.set("page", String(number));
    return url.pathname + url.search;
  }

  function link(href, text, className, rel) {
    const element = document.createElement("a");
    element.className = className;
    element.href = href;
    element.textContent = text;
    if (rel) element.rel = rel;
    return element;
  }

  /* The same page links as _macros.html's `pagination`: the first and last pages and those
     around this one, or, past the last page, a link to it. */
  function renderPager(pager, current, pages) {
    if (pager.dataset.totalPages === String(pages) && pager.dataset.page === String(current)) return;
    pager.dataset.totalPages = String(pages);
    pager.dataset.page = String(current);
    pager.replaceChildren();
    if (current > pages) {
      const notice = document.createElement("p");
      notice.className = "notice past-end";
      notice.textContent =
        t("There is no page {page} here: the last page is {last}.", { page: current, last: pages }) + " ";
      notice.append(link(pageHref(pages), t("Go to page {last}", { last: pages }), "page-last"));
      pager.append(notice);
      return;
    }
    if (pages <= 1) return;
    const nav = document.createElement("nav");
    nav.className = "pagination";
    nav.setAttribute("aria-label", t("Pages"));
    if (current > 1) nav.append(link(pageHref(current - 1), "‹ " + t("Previous"), "page-link", "prev"));
    let previous = 0;
    for (let n = 1; n <= pages; n += 1) {
      if (n !== 1 && n !== pages && Math.abs(n - current) > 2) continue;
      if (n > previous + 1) {
        const gap = document.createElement("span");
        gap.className = "page-gap";
        gap.textContent = "…";
        nav.append(gap);
      }
      if (n === current) {
        const here = document.createElement("span");
        here.className = "page-link is-current";
        here.setAttribute("aria-current", "page");
        here.textContent = window.ShopText.number(n);
        nav.append(here);
      } else {
        nav.append(link(pageHref(n), window.ShopText.number(n), "page-link"));
      }
      previous = n;
    }
    if (current < pages) nav.append(link(pageHref(current + 1), t("Next") + " ›", "page-link", "next"));
    const summary = document.createElement("p");
    summary.className = "muted pagination-summary";
    summary.textContent = t("Page {page} of {pages}", { page: current, pages: pages });
    pager.append(nav, summary);
  }

  let listingTimer = null;

  function scheduleListingResync() {
    if (!productGrid()) return;
    clearTimeout(listingTimer);
    listingTimer = setTimeout(function () {
      listingTimer = null;
      resyncListing().catch(function () {});
    }, SETTLE + Math.random() * SPREAD);
  }

  async function resyncListing() {
    const grid = productGrid();
    if (!grid || !grid.dataset.source) return;
    const answer = await fetchSettled(grid.dataset.source);
    if (answer.ok && answer.body && Array.isArray(answer.body.payload)) {
      reconcileGrid(grid, answer.body.payload);
      fillListing(answer.body);
    }
  }

  async function resyncProducts() {
    await resyncListing();
    const detail = document.querySelector(".product-detail[data-product-id]");
    if (detail) {
      const pid = detail.dataset.productId;
      const answer = await fetchSettled("/api/products/" + encodeURIComponent(pid));
      if (answer.status === 404) {
        markGone(detail);
      } else if (answer.ok && answer.body && isNewer(answer.body.payload, detail, true)) {
        fillProduct(detail, answer.body.payload);
      }
    }
  }

  // ---- the cart ------------------------------------------------------------------------------

  function cartSection() {
    return document.getElementById("cart");
  }

  function cartLine(pid) {
    const section = cartSection();
    return section ? section.querySelector('[data-line-product-id="' + CSS.escape(pid) + '"]') : null;
  }

  /* Whether the user's cart holds the product: its page's lines, or the badge's list. */
  function cartHolds(pid) {
    if (cartLine(pid)) return true;
    const badge = document.getElementById("cart-badge");
    return Boolean(badge && (badge.dataset.products || "").split(" ").includes(pid));
  }

  let cartTimer = null;

  function scheduleCartRefresh() {
    clearTimeout(cartTimer);
    cartTimer = setTimeout(function () {
      cartTimer = null;
      refreshCart().catch(function () {});
    }, SETTLE);
  }

  /* The badge: how many items, their total (both in its accessible name) and which products. */
  function updateBadge(cart) {
    const badge = document.getElementById("cart-badge");
    if (!badge || badge.dataset.cartId !== cart._id) return;
    badge.dataset.products = cart.products
      .map(function (line) {
        return line.product._id;
      })
      .join(" ");
    const count = window.ShopText.number(cart.count);
    const total = money(cart.total);
    const countElement = badge.querySelector(".cart-count");
    const totalElement = badge.querySelector(".cart-total");
    const changed =
      (countElement && countElement.textContent !== count) ||
      (totalElement && totalElement.lastChild.textContent !== total);
    setText(badge, ".cart-count", count);
    setText(badge, ".cart-items", nt("item", "items", cart.count));
    if (totalElement) {
      totalElement.lastChild.textContent = total;
      totalElement.classList.toggle("is-empty", cart.count === 0);
    }
    if (changed) {
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
    if (product.version !== undefined) row.dataset.version = String(product.version);
    setText(row, ".line-title", product.title);
    row.querySelectorAll("a.line-title").forEach(function (link) {
      link.href = "/products/" + encodeURIComponent(pid);
    });
    setText(row, ".line-price", money(product.price));
    setText(row, ".line-total", money(Number(product.price) * Number(line.quantity)));
    const input = row.querySelector("input.quantity");
    // Never overwrite what the user is typing right now.
    if (input && document.activeElement !== input) input.value = String(line.quantity);
    if (input) {
      input.setAttribute("aria-label", t("Quantity of {title}", { title: product.title }));
      input.setAttribute("aria-describedby", "quantity-note-" + pid);
    }
    row.querySelectorAll(".field-note").forEach(function (note) {
      note.id = "quantity-note-" + pid;
    });
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
    // The amount for the purchase (a plain number), and as the page writes it.
    section.dataset.purchasableTotal = Number(cart.purchasable_total).toFixed(2);
    setText(section, "#buy-total, .confirm-total", money(cart.purchasable_total));
    const buyable = cart.products.filter(function (line) {
      return !line.problem;
    }).length;
    const button = document.getElementById("buy-button");
    if (button) button.disabled = buyable === 0;
    const note = document.getElementById("purchase-note");
    if (note) note.hidden = buyable === cart.products.length;
  }

  /* Show `cart` (the API's cart JSON): the badge everywhere, the lines on its own page.
     An event must be newer than what is shown; an answer of the API at least as new (the
     cart's lines are the same, its products' details may be fresher). */
  function renderCart(cart, fromEvent) {
    if (!cart || typeof cart._id !== "string") return;
    if (cart._id === cartId) {
      const version = Number(cart.version || 0);
      if (fromEvent ? version <= cartVersion : version < cartVersion) return;
      cartVersion = version;
    }
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
        renderCart(message.cart, true);
        break;
      case "resync":
        // The server may have missed events from its other processes: refetch, spread out.
        setTimeout(resync, Math.random() * RESYNC_SPREAD);
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
    const seconds = Math.max(1, Math.round(delay / 1000));
    setStatus("closed", nt("Offline, retrying in {n} second", "Offline, retrying in {n} seconds", seconds));
    retryTimer = setTimeout(function () {
      retryTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    if (leaving) return;
    setStatus("connecting", t("Connecting…"));
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
      setStatus("open", t("Live"));
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
