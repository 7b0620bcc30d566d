// The configurator's part pickers (issue 15, items 1-2). A picker's list is fetched when it opens and again
// after every re-check while it is open, so it always reflects the build as it is now. Pickers the user
// opened stay open when their section is re-rendered; "Add" closes its picker, and the picker of the next
// part the build needs opens by itself (the server marks it: data-next).
(function () {
  "use strict";
  var userOpen = new Set();

  function refresh(details) {
    var form = details.querySelector("form[hx-get]");
    if (form && window.htmx) {
      window.htmx.trigger(form, "refresh");
    }
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

  document.addEventListener("click", function (event) {
    var add = event.target.closest ? event.target.closest("a.pick-add") : null;
    var details = add ? add.closest("details.picker") : null;
    if (details) {
      userOpen.delete(details.id);
    }
  }, true);

  document.body.addEventListener("rigsite:rechecked", function () {
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

  // A picker rendered open (the next part) loads its list with the page, once htmx has processed it.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("details.picker[open]").forEach(refresh);
  });
})();
