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
