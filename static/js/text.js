/* The page scripts' words and formats, in the page's language.
 *
 * The shop serves each language's words as /i18n/<tag>.js (shop/i18n/scripts.py), loaded
 * just before this file: translations of every message the scripts write, the plural rule,
 * and how the language writes an amount of the shop's currency (the same parts Babel gives
 * the server, so a live price reads exactly like a rendered one).
 *
 *   t("Added {title} to your cart.", {title: title})
 *   nt("{n} product", "{n} products", count)        // {n} is the count, formatted
 *   money(12.5)                                      // "$12.50", "US$12,50"
 *   moment("2026-11-28T12:57:00+00:00")              // "Nov 28, 2026, 12:57 PM UTC"
 *
 * `t` and `nt` are the markers `make catalogues` extracts: call them with literal text.
 */
(function () {
  "use strict";

  const data = window.ShopTextData || {
    locale: document.documentElement.lang || "en",
    currency: "USD",
    money: null,
    messages: {},
    plurals: {},
  };
  const plural =
    typeof data.plural === "function"
      ? data.plural
      : function (n) {
          return Number(n !== 1);
        };

  function fill(text, params) {
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  function t(message, params) {
    const translated = data.messages[message];
    return fill(translated || message, params);
  }

  function nt(singular, pluralText, n, params) {
    const forms = data.plurals[singular];
    let text;
    if (forms && forms.length) {
      text = forms[Math.min(plural(n), forms.length - 1)] || pluralText;
    } else {
      text = n === 1 ? singular : pluralText;
    }
    return fill(text, Object.assign({ n: number(n) }, params || {}));
  }

  /* A whole number grouped as the language groups amounts: 100000 -> "100,000". */
  function grouped(digits, parts) {
    const first = parts.grouping[0];
    const other = parts.grouping[1];
    if (digits.length <= first) return digits;
    const groups = [digits.slice(-first)];
    let rest = digits.slice(0, -first);
    while (rest) {
      groups.unshift(rest.slice(-other));
      rest = rest.slice(0, -other);
    }
    return groups.join(parts.group);
  }

  function number(value) {
    const n = Math.round(Number(value));
    if (data.money && n >= 0) return grouped(String(n), data.money);
    return new Intl.NumberFormat(data.locale).format(n);
  }

  /* A date and time to the minute, in UTC (an ISO text), as the server's `moment` filter
   * writes it: Babel's pattern for the language, read here ("Nov 28, 2026, 12:57 PM UTC",
   * "28 nov 2026, 12:57 UTC"). Patterns are CLDR's: a run of one letter is a field, 'quoted'
   * text is literal; the fields a medium date and a short time use are known. */
  function moment(iso) {
    const when = new Date(iso);
    const parts = data.moment;
    if (!parts || isNaN(when.getTime())) {
      const style = { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" };
      return new Intl.DateTimeFormat(data.locale, style).format(when) + " UTC";
    }
    const pad = function (n, width) {
      return String(n).padStart(width, "0");
    };
    const hours = when.getUTCHours();
    const fields = {
      y: function (w) {
        return w === 2 ? pad(when.getUTCFullYear() % 100, 2) : pad(when.getUTCFullYear(), w);
      },
      M: function (w) {
        return w >= 3 ? parts.months[when.getUTCMonth()] : pad(when.getUTCMonth() + 1, w);
      },
      d: function (w) {
        return pad(when.getUTCDate(), w);
      },
      H: function (w) {
        return pad(hours, w);
      },
      h: function (w) {
        return pad(hours % 12 || 12, w);
      },
      m: function (w) {
        return pad(when.getUTCMinutes(), w);
      },
      a: function () {
        return parts.periods[hours < 12 ? 0 : 1];
      },
    };
    const text = parts.pattern.replace(/'([^']*)'|([A-Za-z])\2*/g, function (token, quoted, letter) {
      if (quoted !== undefined) return quoted === "" ? "'" : quoted;
      return fields[letter] ? fields[letter](token.length) : token;
    });
    return text + " UTC";
  }

  /* An amount of the shop's currency (the API's number, like 12.5), as the server writes it. */
  function money(amount) {
    const cents = Math.round(Number(amount) * 100);
    const parts = data.money;
    if (!parts || !(cents >= 0)) {
      return new Intl.NumberFormat(data.locale, { style: "currency", currency: data.currency }).format(
        cents / 100
      );
    }
    const whole = String(Math.floor(cents / 100));
    const fraction = String(cents % 100).padStart(2, "0");
    return parts.prefix + grouped(whole, parts) + parts.decimal + fraction + parts.suffix;
  }

  window.ShopText = { t: t, nt: nt, money: money, number: number, moment: moment, locale: data.locale };
})();
