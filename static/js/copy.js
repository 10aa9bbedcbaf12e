// Copy recovery codes (data-copy-target: the list) or a value (data-copy-text: the
// authenticator key, ungrouped) to the clipboard; print the print view. The only script on
// the site, loaded as a static file (the CSP allows no inline script); pages work without it.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target], [data-copy-text]").forEach(function (button) {
    var text = button.getAttribute("data-copy-text");
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if ((text === null && !target) || !navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    button.insertAdjacentElement("afterend", status);
    button.addEventListener("click", function () {
      var value = text;
      if (value === null) {
        value = Array.prototype.map.call(target.querySelectorAll("code"), function (el) {
          return el.textContent.trim();
        }).join("\n") + "\n";
      }
      navigator.clipboard.writeText(value).then(function () {
        var copied = button.getAttribute("data-copied-label") || "Copied";
        button.textContent = copied;
        status.textContent = copied;
        setTimeout(function () {
          button.textContent = label;
          status.textContent = "";
        }, 2500);
      });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
