// Studio CRM: the little the staff pages need beyond htmx.
// The pages' Content-Security-Policy allows neither inline <style> elements nor eval(): htmx is
// told not to use them (it reads its config when the document is ready, after this script ran).
htmx.config.includeIndicatorStyles = false;
htmx.config.allowEval = false;
// Picking a client from the matches under the booking form fills in the client's fields.
document.addEventListener("click", function (event) {
  var choice = event.target.closest("[data-client-phone]");
  if (!choice) return;
  event.preventDefault();
  var form = choice.closest("form");
  var fields = { client_phone: "clientPhone", client_name: "clientName", client_email: "clientEmail" };
  Object.keys(fields).forEach(function (name) {
    var input = form.elements[name];
    if (input) input.value = choice.dataset[fields[name]] || "";
  });
  var list = choice.closest(".client-matches-region");
  if (list) {
    var note = document.createElement("p");
    note.className = "muted";
    note.setAttribute("role", "status");
    note.textContent = choice.dataset.clientName + " is selected.";
    list.replaceChildren(note);
  }
  form.elements.client_phone.focus();
});

// On a phone the navigation sits behind "Menu": the link opens it without script (#site-menu:target);
// here it becomes a toggle that says whether the menu is open, and Escape closes it.
(function () {
  var toggle = document.querySelector(".menu-toggle");
  if (!toggle) return;
  var bar = toggle.closest(".topbar");
  function show(open) {
    bar.classList.toggle("menu-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }
  toggle.addEventListener("click", function (event) {
    event.preventDefault();
    show(!bar.classList.contains("menu-open"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && bar.classList.contains("menu-open")) {
      show(false);
      toggle.focus();
    }
  });
})();

// A "Print" button (shown only where this script runs) prints the page: the day sheet.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
});

// A refused form's error summary takes the focus, so it is read out and in view; otherwise a page
// that is a form (data-focus-first) puts the cursor in its first field.
(function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    return;
  }
  var form = document.querySelector("form[data-focus-first]");
  var field = form && form.querySelector("input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled])");
  if (field) field.focus();
})();

// A link of the error summary moves the focus to its field, with the field's label in view.
document.addEventListener("click", function (event) {
  var link = event.target.closest(".error-summary a[href^='#']");
  var field = link && document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  event.preventDefault();
  var label = document.querySelector("label[for='" + field.id + "']");
  (label || field).scrollIntoView({ block: "center" });
  field.focus({ preventScroll: true });
});

// A table, chart or calendar larger than its box scrolls inside it; the keyboard can scroll it too. A
// calendar or timeline that scrolls opens with the present moment in view, a little of the past before
// it; a chart of days with the latest days.
document.querySelectorAll(".table-wrap, .timeline, .timegrid, .chart-frame").forEach(function (box) {
  if (box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight) return;
  box.tabIndex = 0;
  if (box.classList.contains("chart-frame")) {
    box.scrollLeft = box.scrollWidth;
    return;
  }
  var now = box.querySelector(".tg-now");
  if (!now) return;
  var moment = now.getBoundingClientRect(), frame = box.getBoundingClientRect();
  if (box.classList.contains("timeline")) {
    var names = box.querySelector(".tl-label").offsetWidth;
    box.scrollLeft += moment.left - frame.left - names - (box.clientWidth - names) / 4;
  } else {
    box.scrollTop += moment.top - frame.top - box.clientHeight / 3;
  }
});

// The chosen space of a switcher wider than the screen is scrolled into view.
document.querySelectorAll(".space-tabs [aria-current]").forEach(function (tab) {
  tab.parentElement.scrollLeft = tab.offsetLeft - tab.parentElement.offsetLeft - 12;
});
