// Share links and "Add to compare" (templates/builds/_share.html, _compare_add.html; issue 15, item 5).
// - "Copy link" buttons ([data-copy] naming a read-only input) copy its value with the Clipboard API;
//   where that is missing or refused, the text is selected for Ctrl+C / Cmd+C. The result is announced
//   in the button's aria-live status ([data-copy-status]). The buttons stay hidden without this script.
// - Clicking a share-link input selects all of it.
// - The compare page's form leaves out its "add by link" box when empty (a cleaner shareable address).
// - An "Add to compare" form comes back to the address shown now: on the configurator the address bar
//   holds unsaved changes (htmx pushes each re-check's URL), newer than the page's own address.
// Loaded with a <script src> (the CSP allows no inline script); it may be included more than once.
(function () {
  "use strict";
  if (window.rigsiteShareLoaded) {
    return;
  }
  window.rigsiteShareLoaded = true;

  function announce(status, text) {
    if (!status) {
      return;
    }
    status.textContent = "";
    // A fresh text node each time, so that a second "Copied" is announced too.
    window.setTimeout(function () {
      status.textContent = text;
    }, 30);
  }

  function selectText(input) {
    input.focus();
    input.select();
    input.setSelectionRange(0, input.value.length);
  }

  function copyBySelection(input, status) {
    selectText(input);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    announce(status, copied ? "Copied" : "Link selected: press Ctrl+C (Cmd+C on a Mac) to copy it");
  }

  function reveal() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!input) {
        return;
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () {
            announce(status, "Copied");
          },
          function () {
            copyBySelection(input, status);
          }
        );
      } else {
        copyBySelection(input, status);
      }
      return;
    }
    var field = event.target.closest("input[data-select-all]");
    if (field) {
      field.select();
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "compare-choose") {
      // An empty "add by link" box would add "&b=" to the comparison's shareable address.
      form.querySelectorAll("input[type=text][name=b], input:not([type])[name=b]").forEach(function (box) {
        box.disabled = !box.value.trim();
      });
      return;
    }
    if (!form.classList || !form.classList.contains("compare-add")) {
      return;
    }
    var next = form.querySelector("input[name=next]");
    if (next) {
      next.value = window.location.pathname + window.location.search;
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
  document.addEventListener("htmx:afterSettle", reveal);
})();
