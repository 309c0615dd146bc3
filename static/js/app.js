/* Behaviour shared by every page. Scripts are files, never inline, so that the
 * Content-Security-Policy can allow scripts from this site only (script-src 'self'). */
(function () {
  "use strict";

  // Filter forms send only the fields in use, so pushed addresses stay short and shareable.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (event.detail.verb !== "get" || !data || !data.forEach) return;
    var empty = [];
    data.forEach(function (value, key) { if (value === "") empty.push(key); });
    empty.forEach(function (key) { data.delete(key); });
  });

  // A form or a submit button with data-confirm asks before it submits.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm], input[type=submit][data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // A button with data-print prints the page (the print stylesheet hides the menus).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  // Organisation tree: the first click loads the children with HTMX (hx-trigger="click once");
  // later clicks only show or hide them.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tree-toggle]");
    if (!button) return;
    var list = document.getElementById(button.getAttribute("aria-controls"));
    var open = button.getAttribute("aria-expanded") === "true";
    if (button.dataset.loaded) { list.classList.toggle("d-none", open); }
    button.dataset.loaded = "1";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    button.querySelector("i").className = open ? "bi bi-plus-square" : "bi bi-dash-square";
  });

  // A sub-navigation wider than a phone scrolls its current item into view.
  function showActiveSubnav() {
    var active = document.querySelector(".pe-subnav .active");
    if (active && active.scrollIntoView) active.scrollIntoView({ block: "nearest", inline: "center" });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showActiveSubnav);
  else showActiveSubnav();
})();
