// The configurator's part pickers (issue 15, items 1-2). A picker's list is fetched when it opens and again
// after every re-check while it is open, so it always reflects the build as it is now. Pickers the user
// opened stay open when their section is re-rendered; "Add" closes its picker, and the picker of the next
// part the build needs opens by itself (the server marks it: data-next).
(function () {
  "use strict";
  var userOpen = new Set();

  // One fetch per picker per burst of events: a re-check, the toggle of a picker it re-rendered open and the
  // page load can all ask at once, and a second request would abort the first.
  var pending = new Map();

  function refresh(details) {
    var id = details.id;
    if (!id || pending.has(id)) {
      return;
    }
    pending.set(id, window.setTimeout(function () {
      pending.delete(id);
      var current = document.getElementById(id); // the section may have been re-rendered meanwhile
      var form = current && current.open ? current.querySelector("form[hx-get]") : null;
      if (form && window.htmx) {
        window.htmx.trigger(form, "refresh");
      }
    }, 30));
  }

  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!(details instanceof HTMLDetailsElement) || !details.classList.contains("picker")) {
      return;
    }
    if (details.open) {
      if (!details.dataset.next) {
        userOpen.add(details.id);
      }
      refresh(details);
    } else {
      userOpen.delete(details.id);
    }
  }, true);

  // "Add" in a picker: the request goes out from the state form, which stays in the page, so a refresh of
  // the list that replaces the link meanwhile cannot drop it (htmx ignores the answer to a request whose
  // element has left the page).
  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("a.pick-add[data-add]") : null;
    if (!add || !window.htmx || !document.getElementById("build-form")) {
      return;
    }
    event.preventDefault();
    var details = add.closest("details.picker");
    if (details) {
      userOpen.delete(details.id);
    }
    window.htmx.ajax("GET", add.dataset.add, { source: "#build-form", swap: "none" });
  }, true);

  document.body.addEventListener("rigsite:rechecked", function () {
    // A count of the re-checks the page has shown (settled), for anyone waiting on the next one.
    document.body.dataset.rechecked = String(Number(document.body.dataset.rechecked || 0) + 1);
    var reopened = new Set();
    userOpen.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && !details.open) {
        details.open = true; // its toggle event fetches the list
        reopened.add(id);
      }
    });
    document.querySelectorAll("details.picker[open]").forEach(function (details) {
      if (!reopened.has(details.id)) {
        refresh(details);
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    // A picker rendered open (the next part) loads its list with the page, once htmx has processed it.
    document.querySelectorAll("details.picker[open]").forEach(refresh);
    // A save that failed answers a POST: keep the configuration in the address bar, and bring the save
    // form's error into view with the focus on the field to fix.
    var configurator = document.getElementById("configurator");
    var stateUrl = configurator ? configurator.dataset.stateUrl : "";
    var failed = document.querySelector("#save-form[data-failed]");
    if (failed) {
      if (stateUrl && window.location.pathname + window.location.search !== stateUrl) {
        window.history.replaceState(null, "", stateUrl);
      }
      var field = failed.querySelector(".save-error") ? failed.querySelector(".save-error").parentElement.querySelector("input, textarea, select") : null;
      (field || failed.querySelector("button[type=submit]")).focus();
      failed.scrollIntoView({ block: "center" });
    }
  });
})();
