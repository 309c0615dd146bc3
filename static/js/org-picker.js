/* Organisation picker (partyedu.organizations.picker.OrganizationPicker).
 *
 * Markup (widgets/organization_picker.html): [data-org-picker] holds a hidden input with the id
 * ([data-org-picker-value]), a visible search box ([data-org-picker-input], named "<name>__q") that
 * asks /organizations/picker/ by HTMX, and the suggestion container ([data-org-picker-results]).
 * This file only picks: every listener is on document, so pickers in HTMX-swapped content work.
 * Picking sets the hidden id and fires "change" on it (forms that refresh on change refresh);
 * editing the text drops the id; without this script the text is resolved by the server. */
(function () {
  "use strict";

  var ROOT = "[data-org-picker]";
  var INPUT = "[data-org-picker-input]";
  var OPTION = "[role=option]";

  function parts(el) {
    var root = el.closest(ROOT);
    return {
      root: root,
      value: root.querySelector("[data-org-picker-value]"),
      input: root.querySelector(INPUT),
      results: root.querySelector("[data-org-picker-results]"),
    };
  }

  function options(p) {
    return Array.prototype.slice.call(p.results.querySelectorAll(OPTION));
  }

  function isOpen(p) {
    return p.results.childElementCount > 0;
  }

  function close(p) {
    p.results.innerHTML = "";
    p.input.setAttribute("aria-expanded", "false");
    p.input.removeAttribute("aria-activedescendant");
  }

  function setValue(p, id, label) {
    var changed = p.value.value !== id;
    p.value.value = id;
    p.input.dataset.label = label;
    if (changed) p.value.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function choose(p, option) {
    var label = option.dataset.orgLabel;
    p.input.value = label;
    p.input.setAttribute("value", label); // so that an HTMX history snapshot shows it too
    close(p);
    setValue(p, option.dataset.orgId, label);
  }

  function activate(p, option) {
    options(p).forEach(function (o) {
      o.setAttribute("aria-selected", o === option ? "true" : "false");
    });
    if (option) {
      p.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  // What to search for: the typed text, or nothing (browse from the top) when the box shows the pick.
  function query(p) {
    return p.value.value && p.input.value === p.input.dataset.label ? "" : p.input.value.trim();
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var data = event.detail.formData;
    if (!elt || !elt.matches || !data) return;
    if (elt.matches(INPUT)) {
      data.delete(elt.name);
      data.set("q", query(parts(elt)));
      return;
    }
    // A form sent by HTMX: a picked id makes the text redundant (keeps pushed addresses short).
    if (elt.querySelectorAll) {
      elt.querySelectorAll("[data-org-picker-value]").forEach(function (hidden) {
        if (hidden.value) data.delete(hidden.name + "__q");
      });
    }
  });

  // Suggestions that arrive late (the box lost focus, or its text changed since, e.g. by a pick)
  // are dropped; shown ones get ids for ARIA.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.matches || !target.matches("[data-org-picker-results]")) return;
    var p = parts(target);
    var config = event.detail.requestConfig;
    var asked = config && config.formData && config.formData.get ? config.formData.get("q") : null;
    if (document.activeElement !== p.input || (typeof asked === "string" && asked !== query(p))) {
      event.detail.shouldSwap = false;
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || !target.matches || !target.matches("[data-org-picker-results]")) return;
    var p = parts(target);
    options(p).forEach(function (o, i) {
      o.id = target.id + "-" + i;
    });
    p.input.setAttribute("aria-expanded", options(p).length ? "true" : "false");
    p.input.removeAttribute("aria-activedescendant");
  });

  // Editing the text drops the picked id; clearing it clears the selection (and says so).
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(INPUT)) return;
    var p = parts(input);
    if (input.value.trim() === "") {
      close(p);
      input.setAttribute("value", "");
      setValue(p, "", "");
    } else if (p.value.value && input.value !== input.dataset.label) {
      setValue(p, "", "");
    }
  });

  // The box's own "change" is not a change of the field: only the hidden input's counts.
  document.addEventListener(
    "change",
    function (event) {
      if (event.target.matches && event.target.matches(INPUT)) event.stopPropagation();
    },
    true
  );

  // Pressing on the list must not blur the box (which would close the list before the click).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-org-picker-results]")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest(ROOT + " " + OPTION);
    if (!option) return;
    event.preventDefault();
    var p = parts(option);
    choose(p, option);
    p.input.blur(); // on phones: put the keyboard away and show the page
  });

  // Focusing a box that shows the pick selects its text, so that typing replaces it.
  document.addEventListener("focusin", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(INPUT)) return;
    if (parts(input).value.value && input.value === input.dataset.label) input.select();
  });

  document.addEventListener("focusout", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(INPUT)) return;
    var p = parts(input);
    setTimeout(function () {
      if (document.activeElement !== p.input) close(p);
    }, 150);
  });

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches(INPUT)) return;
    var p = parts(input);
    var opts = options(p);
    var current = p.results.querySelector(OPTION + "[aria-selected=true]");
    var index = opts.indexOf(current);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!opts.length) return;
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      activate(p, opts[(index + step + opts.length) % opts.length]);
    } else if (event.key === "Enter") {
      if (current || opts.length === 1) {
        event.preventDefault();
        choose(p, current || opts[0]);
      } else if (isOpen(p)) {
        event.preventDefault(); // choose from the list first
      }
    } else if (event.key === "Escape" && isOpen(p)) {
      event.preventDefault();
      close(p);
    }
  });
})();
